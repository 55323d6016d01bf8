"""Tables for people: pandas DataFrames drawn from domain state.

The domain classes hand out plain rows (lists of dicts, no pandas); this module is where they become
the tables a notebook, the admin panel or a CSV file shows. One function per thing shown, each
named after it: ``events_table(office.events)``, ``users_table(office)``, ``policy_table(policy)``,
``flow_table(FLOW)``, ``app_table(app, local)``, ``device_table(device)``. None of them shows a
secret: the rows they read hold none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..core.clock import iso
from ..core.events import COLUMNS as EVENT_COLUMNS
from ..core.presets import PRESETS, preset

if TYPE_CHECKING:
    from ..apps.authenticator import AuthenticatorApp
    from ..apps.device import Device
    from ..core.events import EventLog
    from ..core.policy import Policy
    from ..login.backoffice import BackOffice
    from ..login.flow import FlowTable

USER_LABELS = {"username": "username", "company": "company", "force_2fa": "force 2FA", "company_2fa": "company 2FA",
               "needs_2fa": "needs 2FA", "enrolled": "enrolled", "enrolment_pending": "enrolment pending",
               "failed_codes": "failed codes", "locked_out_until": "locked out until",
               "recovery_codes_left": "recovery codes left"}
"""The users table's column label for each field of a :class:`~twofa_sim.login.user.UserView`."""
USER_COLUMNS = list(USER_LABELS.values())


def events_table(log: "EventLog", last: int | None = None, language: str = "en") -> pd.DataFrame:
    """The whole log (or its ``last`` events), one row per event, time in UTC, indexed by ``seq``;
    the details in ``language``."""
    frame = pd.DataFrame(log.rows(last, language), columns=EVENT_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
    frame["login"] = frame["login"].astype("Int64")
    return frame.set_index("seq")


def users_table(office: "BackOffice") -> pd.DataFrame:
    """One row per user: what the admin sees (no hashes, no secrets); a lock's end in UTC, empty
    when the user is not locked."""
    rows = [{**{USER_LABELS[f]: getattr(v, f) for f in USER_LABELS},
             "locked out until": "" if v.locked_out_until is None else iso(v.locked_out_until)} for v in office.user_views()]
    return pd.DataFrame(rows, columns=USER_COLUMNS).set_index("username")


def policy_table(policy: "Policy") -> pd.DataFrame:
    """Every knob, its value, its default and why."""
    return pd.DataFrame(policy.rows()).set_index("setting")


def flow_table(table: "FlowTable") -> pd.DataFrame:
    """Every transition: from, event, outcome, reason, to, what it does, records and says, and its rule."""
    return pd.DataFrame([{"from": r.source.value, "event": r.event.value, "outcome": r.outcome.value,
                          "reason": r.reason.value if r.reason else "any", "to": r.target.value,
                          "effect": r.effect, "records": r.records.value if r.records else "-",
                          "message": r.message, "rule": r.rule}
                         for r in table.rows])


def app_table(app: "AuthenticatorApp", local: float | None = None) -> pd.DataFrame:
    """The app's entries; with ``local`` (the device's time), also the code and the seconds left.

    A "shown as" column appears where the app's list names an entry otherwise than "issuer: account",
    a "type" column where an entry is counter-based (its period is then empty)."""
    entries = app.entries
    columns = ["id", "issuer", "account", "algorithm", "digits", "period", "origin"]
    if any(e.counter_based for e in entries):
        columns.insert(3, "type")
    rows = [{c: getattr(e, c) for c in columns} for e in entries]
    if any(app.profile.shown_name(e.issuer, e.account) != e.label for e in entries):
        columns.insert(3, "shown as")
        for row, e in zip(rows, entries):
            row["shown as"] = app.profile.shown_name(e.issuer, e.account)
    frame = pd.DataFrame(rows, columns=columns).set_index("id")
    if local is not None:
        readings = {r.entry_id: r for r in app.readings(local)}
        frame["code"] = [readings[i].code for i in frame.index]
        frame["seconds left"] = [round(readings[i].seconds_left, 1) for i in frame.index]
    if "type" in frame:
        frame.loc[frame["type"] == "hotp", "period"] = None
    return frame


def device_table(device: "Device") -> pd.DataFrame:
    """The device's app as its owner sees it now: entries, codes and seconds left on the device's clock."""
    return app_table(device.app, device.now())


def presets_table(names=None) -> pd.DataFrame:
    """Every knob (rows) under each real system's preset (columns); a value the preset does not set is
    the project's, shown in brackets; a stand-in for a knob the system lacks is marked with an asterisk."""
    columns = {}
    for name in names or PRESETS:
        values = {}
        for row in preset(name).rows():
            shown = str(row["value"])
            if row["as documented"].startswith("stand-in: "):
                shown += " *"
            elif not row["source"] and name != "default":
                shown = f"({shown})"
            values[row["setting"]] = shown
        columns[name] = values
    return pd.DataFrame(columns).rename_axis("setting")


def preset_sources_table(name: str) -> pd.DataFrame:
    """One preset's knobs: value, the system's own words, and where they are written."""
    return pd.DataFrame(preset(name).rows()).drop(columns="preset").set_index("setting")


def preset_notes_table(names=None) -> pd.DataFrame:
    """Per preset: what the system does that the engine does not copy, one line each."""
    rows = [{"preset": name, "the engine does not copy": note}
            for name in names or PRESETS for note in preset(name).not_modelled]
    return pd.DataFrame(rows, columns=["preset", "the engine does not copy"]).set_index("preset")


DIFF_COLUMNS = ["scenario", "step", "line", "action", "what differs", "outcome A", "outcome B", "message A",
                "message B", "events A", "events B"]


def diff_table(rows: list[dict]) -> pd.DataFrame:
    """The steps that change between two policies (``twofa_sim.spec.policy_diff`` rows), one per row."""
    return pd.DataFrame(rows, columns=DIFF_COLUMNS).set_index(["scenario", "step"])


def stories_changed_table(rows_by_preset: dict[str, list[dict]], scenarios: list[str]) -> pd.DataFrame:
    """Per scenario (rows) and preset (columns): how many steps change outcome, message or events."""
    counts = {name: {s: sum(1 for r in rows if r["scenario"] == s) for s in scenarios}
              for name, rows in rows_by_preset.items()}
    return pd.DataFrame(counts, index=scenarios).rename_axis("scenario")


__all__ = ["events_table", "users_table", "policy_table", "flow_table", "app_table", "device_table", "presets_table",
           "preset_sources_table", "preset_notes_table", "diff_table", "stories_changed_table"]
