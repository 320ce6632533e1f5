"""Word lists for believable people, devices and places."""

from __future__ import annotations

import random

# (userAgent, browser name, browser version, operating system)
USER_AGENTS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", "Chrome", "124.0.0", "Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Safari/605.1.15", "Safari", "17.4", "Mac OS X"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "Firefox", "125.0", "Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
     "Chrome", "123.0.0", "Linux"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", "Mobile Safari", "17.4", "iOS"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "124.0.0", "Android"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "Edge", "124.0.0", "Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", "Chrome", "124.0.0", "Mac OS X"),
)
PARSED_UA = {ua: {"name": name, "version": version, "os": os} for ua, name, version, os in USER_AGENTS}

LOCALES = (("en-US", "US", "NY"), ("en-US", "US", "CA"), ("en-GB", "GB", "ENG"), ("de-DE", "DE", "BE"),
           ("fr-FR", "FR", "IDF"), ("es-419", "MX", "CMX"), ("ja-JP", "JP", "13"), ("pt-BR", "BR", "SP"))
FIRST = ("Ana", "Ben", "Chen", "Dana", "Emil", "Fatima", "Gus", "Hana", "Ivan", "José", "Kai", "Lena",
         "Mia", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tomás", "Uma", "Vik", "Wen", "Yara", "Zoë")
LAST = ("Smith", "Garcia", "Müller", "Tanaka", "O'Neil", "Kowalski", "Silva", "Dubois", "Khan", "Rossi",
        "Nakamura", "Johansson", "Novák", "Okafor", "Lee", "Haddad")
COMPANY_A = ("Blue", "North", "Quantum", "Bright", "Iron", "Silver", "Green", "Swift", "Nova", "Atlas",
             "Summit", "Harbor", "Cedar", "Polar", "Vivid", "Prime")
COMPANY_B = ("Labs", "Systems", "Foods", "Logistics", "Health", "Media", "Works", "Dynamics", "Capital",
             "Retail", "Energy", "Robotics", "Studios", "Partners")
ROLES = ("admin", "analyst", "viewer", "editor", "owner")
PLANS = ("free", "starter", "pro", "enterprise")
REGIONS = ("us-east", "us-west", "eu-central", "ap-northeast", "sa-east")
TAGS = ("champion", "beta", "churn-risk", "power-user", "new", "exec")
FREE_TEXT = ("Great product", "Too slow on big reports", 'The "export" button is hard to find',
             "Très bien, mais cher", "レポートが便利です", "Needs dark mode\nand keyboard shortcuts", "")


def ip_address(r: random.Random) -> str:
    if r.random() < 0.1:
        return "2409:4052:" + ":".join(f"{r.randrange(65536):x}" for _ in range(6))
    return f"{r.choice((23, 34, 52, 64, 81, 98, 104, 142, 185, 203))}.{r.randrange(256)}." \
           f"{r.randrange(256)}.{r.randrange(1, 255)}"
