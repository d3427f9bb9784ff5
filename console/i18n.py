"""The console's words in Norwegian (bokmål, the default) and English.

Each page module adds its own strings with `register({"nb": {...}, "en": {...}})` at import
time; templates call `t("key", name=...)`. A key missing in English falls back to bokmål, and
a key missing everywhere shows itself (so a forgotten string is visible, never a crash).
"""

from __future__ import annotations

LANGS = ("nb", "en")
DEFAULT_LANG = "nb"
LANG_COOKIE = "sb_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "nb": {
        "app.name": "Sentralbord",
        "nav.desk": "Desk",
        "nav.tickets": "Saker",
        "nav.wallboard": "Tavle",
        "nav.admin": "Admin",
        "nav.main": "Hovedmeny",
        "nav.signed_in_as": "Logget inn som {name}",
        "nav.sign_out": "Logg ut",
        "lang.label": "Språk",
        "lang.switch": "English",
        "lang.switch_to": "en",
        "login.title": "Logg inn",
        "login.username": "Brukernavn",
        "login.password": "Passord",
        "login.submit": "Logg inn",
        "login.failed": "Feil brukernavn eller passord.",
        "login.throttled": "For mange mislykkede forsøk. Vent et kvarter og prøv igjen.",
        "login.csrf": "Skjemaet var utløpt. Prøv igjen.",
        "error.title": "Noe gikk galt",
        "error.403": "Du har ikke tilgang til denne siden.",
        "error.404": "Siden finnes ikke.",
        "error.back": "Tilbake til desken",
    },
    "en": {
        "app.name": "Switchboard",
        "nav.desk": "Desk",
        "nav.tickets": "Tickets",
        "nav.wallboard": "Wallboard",
        "nav.admin": "Admin",
        "nav.main": "Main menu",
        "nav.signed_in_as": "Signed in as {name}",
        "nav.sign_out": "Sign out",
        "lang.label": "Language",
        "lang.switch": "Norsk",
        "lang.switch_to": "nb",
        "login.title": "Sign in",
        "login.username": "Username",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.failed": "Wrong username or password.",
        "login.throttled": "Too many failed attempts. Wait a quarter of an hour and try again.",
        "login.csrf": "The form had expired. Please try again.",
        "error.title": "Something went wrong",
        "error.403": "You do not have access to this page.",
        "error.404": "The page does not exist.",
        "error.back": "Back to the desk",
    },
}


def register(texts: dict[str, dict[str, str]]) -> None:
    """Add a page family's strings: {"nb": {key: text}, "en": {key: text}}."""
    for lang, entries in texts.items():
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
        MESSAGES[lang].update(entries)


def translate(lang: str, key: str, **values: object) -> str:
    """The text for key in lang (falling back to bokmål), with {placeholders} filled in."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES[DEFAULT_LANG].get(key) or key
    return text.format(**values) if values else text


def pick_lang(cookie: str | None) -> str:
    """The language the browser chose, or bokmål."""
    return cookie if cookie in LANGS else DEFAULT_LANG
