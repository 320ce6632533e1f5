"""Guides with steps and polls, plus the compact form the guide-activity generator walks.

Poll types are Pendo's ``attributes.type`` values as public sources show them (Fivetran's dbt_pendo seed
data types every NPS poll ``NPSRating``): the NPS survey is an ``NPSRating`` 0..10 poll followed by a
``FreeForm`` "reason" poll; other guides carry ``NumberScale`` (1..5), ``MultipleChoice`` and ``YesNo``
(choice ids), ``PositiveNegative`` (1 / 0) and ``FreeForm`` polls, so extractors meet every
``pollResponse`` shape: numbers, text and choice ids. One guide runs a control group (``guideNotSeen``).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from .entities import Times
from .seeding import pendo_id

STATES = ("public", "public", "public", "staged", "draft", "disabled")
LAUNCH = ("auto", "badge", "launcher", "dom", "api")
STEP_TYPES = ("lightbox", "tooltip", "banner")
CHOICES = {"0": "Every day", "1": "A few times a week", "2": "Weekly", "3": "Rarely"}
YES_NO = {"0": "Yes", "1": "No"}
NUMERIC_POLL_TYPES = frozenset({"NPSRating", "NumberScale", "PositiveNegative"})  # pollResponse is a number
CONTROL_GUIDE_INDEX = 1  # this guide holds back a control group: guideNotSeen instead of guideSeen
CONTROL_SHARE = 5  # one visitor in CONTROL_SHARE is in the control group (by a hash of the visitor id)


@dataclass(frozen=True, slots=True)
class PollSpec:
    id: str
    type: str  # attributes.type: NPSRating | NumberScale | FreeForm | MultipleChoice | YesNo | PositiveNegative


@dataclass(frozen=True, slots=True)
class StepSpec:
    id: str
    polls: tuple[PollSpec, ...]


@dataclass(frozen=True, slots=True)
class GuideSpec:
    id: str
    app_id: int
    url: str
    steps: tuple[StepSpec, ...]
    has_control_group: bool = False


def poll_id(r: random.Random) -> str:
    return "".join(r.choices(string.ascii_lowercase + string.digits, k=11))


def make_poll(r: random.Random, kind: str) -> dict:
    attrs = {"type": kind, "display": "inline", "followUp": None, "leftLabel": "", "rightLabel": ""}
    poll = {"id": poll_id(r), "question": "", "attributes": attrs, "numericResponses": [],
            "idResponses": {}, "resetAt": 0}
    if kind == "NPSRating":
        poll["question"] = "How likely are you to recommend Acme to a friend or colleague?"
        poll["numericResponses"] = list(range(11))
        attrs.update(leftLabel="Not at all likely", rightLabel="Extremely likely")
    elif kind == "NumberScale":
        poll["question"] = "How easy was it to build your first report?"
        poll["numericResponses"] = list(range(1, 6))
        attrs.update(leftLabel="Very hard", rightLabel="Very easy")
    elif kind == "PositiveNegative":
        poll["question"] = "Was this guide helpful?"
        poll["numericResponses"] = [0, 1]
    elif kind == "YesNo":
        poll["question"] = "Would you join our beta program?"
        poll["idResponses"] = dict(YES_NO)
    elif kind == "FreeForm":
        poll["question"] = "What is the main reason for your score?"
    else:
        poll["question"] = "How often do you use reports?"
        poll["idResponses"] = dict(CHOICES)
    return poll


def poll_kinds(i: int) -> list[list[str]]:
    """Poll types per step for the i-th guide: guide 0 is the NPS survey (score, then a free-text reason),
    guide 1 asks thumbs up/down, guide 2 a 1..5 scale and a choice poll."""
    if i == 0:
        return [["NPSRating"], ["FreeForm"]]
    if i == 1:
        return [[], ["PositiveNegative"]]
    if i == 2:
        return [["NumberScale"], ["MultipleChoice"]]
    if i % 5 == 4:
        return [["FreeForm"]]
    if i % 5 == 3:
        return [["YesNo"]]
    return [[] for _ in range(1 + i % 3)]


def build_guides(r: random.Random, t: Times, users: list[dict], app_ids: list[int],
                 pages_of_app: dict[int, list[dict]], page_url: dict[str, str],
                 n: int) -> tuple[list[dict], dict[int, list[GuideSpec]]]:
    guides: list[dict] = []
    runtime: dict[int, list[GuideSpec]] = {}
    for i in range(n):
        app_id = app_ids[0] if i in (0, 2) else app_ids[i % len(app_ids)]
        state = "public" if i < 3 else r.choice(STATES)
        page = r.choice(pages_of_app[app_id])
        gid = pendo_id(r)
        created = t.created()
        updated = t.updated(created)
        published = updated if state in ("public", "disabled") else 0
        steps, polls, specs = [], [], []
        for rank, kinds in enumerate(poll_kinds(i), start=1):
            step_polls = [make_poll(r, k) for k in kinds]
            polls += step_polls
            step = {
                "id": pendo_id(r), "guideId": gid, "type": "poll" if step_polls else r.choice(STEP_TYPES),
                "name": f"Step {rank}", "pageId": page["id"], "regexUrlRule": page["rules"][0]["parsedRule"],
                "elementPathRule": "", "triggerElementPathRule": "", "confirmationElementPathRule": "",
                "contentType": "text/html; charset=utf-8",
                "contentUrl": f"https://cdn.pendo.io/guide-content/{gid}/{rank}/content.html",
                "contentUrlCss": "", "contentUrlJs": "", "buildingBlocksUrl": "", "domUrl": "",
                "domJsonpUrl": "", "launchUrl": "", "rank": rank, "advanceMethod": "button",
                "attributes": {"height": 300, "width": 450, "autoHeight": True, "position": "center",
                               "themeId": "default", "css": ""},
                "pollIds": [p["id"] for p in step_polls], "templateId": "", "lastUpdatedAt": updated,
                "resetAt": 0,
            }
            steps.append(step)
            specs.append(StepSpec(step["id"], tuple(PollSpec(p["id"], p["attributes"]["type"])
                                                    for p in step_polls)))
        name = "NPS survey" if i == 0 else ("Report usage poll" if i == 2 else f"Guide {i + 1}")
        guides.append({
            "id": gid, "appId": app_id, "appIds": [app_id], "name": name, "description": "",
            "kind": "lightbox", "state": state, "launchMethod": "auto" if i < 3 else r.choice(LAUNCH),
            "isMultiStep": len(steps) > 1, "isModule": False, "isTopLevel": True, "isTraining": False,
            "createdAt": created, "createdByUser": r.choice(users), "lastUpdatedAt": updated,
            "lastUpdatedByUser": r.choice(users), "publishedAt": published, "publishedEver": published > 0,
            "resetAt": 0, "showsAfter": created, "expiresAfter": None,
            "currentFirstEligibleToBeSeenAt": published, "validThrough": t.anchor,
            "audience": [{"source": {"visitors": None}}, {"identified": "visitorId"},
                         {"select": {"visitorId": "visitorId"}}],
            "audienceUiHint": {"filters": []},
            "attributes": {"type": "lightbox", "device": {"type": "desktop"}, "badge": None,
                           "priority": i, "capping": {"maxImpressions": 3, "maxSessionImpressions": 1},
                           "dom": None, "isAnnouncement": i % 4 == 3, "resourceCenter": None,
                           "email": False},
            "recurrence": 0, "recurrenceEligibilityWindow": 0, "conversion": None, "emailState": "",
            "emailConfiguration": None, "experiment": None, "authoredLanguage": "en-US",
            "editorType": "visualDesigner", "minAgentVersion": "", "originId": "", "resourceCenterId": "",
            "children": [], "translationStates": {}, "rootVersionId": pendo_id(r),
            "stableVersionId": pendo_id(r), "steps": steps, "polls": polls,
        })
        if state == "public":
            runtime.setdefault(app_id, []).append(GuideSpec(gid, app_id, page_url[page["id"]], tuple(specs),
                                                            has_control_group=i == CONTROL_GUIDE_INDEX))
    return guides, runtime
