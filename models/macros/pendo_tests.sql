{#- Generic tests that dbt-core lacks (no packages needed: the project runs offline). -#}

{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test value_between(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (1 = 0
  {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
  {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %})
{% endtest %}

{#- Every row satisfies a boolean SQL expression (e.g. "returning_visitors + first_time_visitors = visitors"). -#}
{% test expression_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
