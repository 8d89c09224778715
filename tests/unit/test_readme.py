"""The README stays true: every setting is in its table, its commands exist and do what it says, and its
Slack app manifest asks for what the bot's code registers and calls."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.arguments import COMMANDS, USAGES
from bot.http import EVENTS_PATH
from forge.config import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    configuration = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]  # not the Slack tables
    table_rows = [line for line in configuration.splitlines() if line.startswith("| `")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(table_rows)))
    for name, field in Settings.model_fields.items():
        env = field.validation_alias.choices[0]  # type: ignore[union-attr]
        assert env in documented, f"{env} ({name}) is missing from the README configuration table"


def test_quick_start_commands_exist_and_ci_runs_the_test_command() -> None:
    assert "./scripts/quickstart" in README and "./scripts/test" in README
    quickstart = (REPO / "scripts" / "quickstart").read_text()
    assert "generate medical_advice_boundary -n 3 --store" in quickstart and "scenarios list" in quickstart
    assert "exec ./scripts/test" in (REPO / ".ci" / "run").read_text()


# -- the Slack app manifest -------------------------------------------------------------

BOT = REPO / "bot"
# What each Web API method the bot calls needs (slack_sdk name -> bot scopes). views.open and
# views.publish need none. chat.postMessage also needs chat:write.public because /forge generate posts to
# the channel it was typed in, which the bot may not have joined.
SCOPES_FOR_METHOD: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write", "chat:write.public"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "views_open": set(),
    "views_publish": set(),
    "files_upload_v2": {"files:write"},  # files.getUploadURLExternal + files.completeUploadExternal
}
WEB_API_CALL = re.compile(r"\.((?:admin|apps|auth|bookmarks|calls|chat|conversations|dnd|emoji|files|pins|reactions|"
                          r"reminders|search|team|usergroups|users|views)_\w+)\(")


def yaml_blocks() -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)


def manifest() -> dict[str, Any]:
    found = [yaml.safe_load(block) for block in yaml_blocks() if block.startswith("display_information:")]
    assert len(found) == 1, "expected one ```yaml block holding the Slack app manifest in the README"
    return found[0]


def bot_source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(BOT.rglob("*.py")))


def test_manifest_declares_what_the_code_registers() -> None:
    m, source = manifest(), bot_source()
    assert m["display_information"]["name"] == "scenario-forge"
    commands = m["features"]["slash_commands"]
    assert [c["command"] for c in commands] == re.findall(r"app\.command\(\"(/[a-z-]+)\"\)", source) == ["/forge"]
    for name in COMMANDS:  # every subcommand the parser knows is hinted at
        assert name in commands[0]["usage_hint"], f"/forge {name} is missing from the manifest's usage_hint"
    registered_events = set(re.findall(r"app\.event\(\"(\w+)\"\)", source))
    assert registered_events == {"app_home_opened"}
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) == registered_events
    assert re.search(r"app\.(action|view)\(", source) and m["settings"]["interactivity"]["is_enabled"] is True
    assert '"type": "home"' in source and m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["socket_mode_enabled"] is True  # `python -m bot` without --http


def test_manifest_scopes_cover_every_web_api_method_the_bot_calls() -> None:
    called = set(WEB_API_CALL.findall(bot_source()))
    assert {"chat_postMessage", "chat_update", "views_publish", "files_upload_v2"} <= called  # the scan works
    unknown = called - SCOPES_FOR_METHOD.keys()
    assert not unknown, f"the bot now calls {unknown}: add their scopes to SCOPES_FOR_METHOD and the README manifest"
    needed = {"commands"}.union(*(SCOPES_FOR_METHOD[method] for method in called))
    declared = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert needed <= declared, f"the README manifest lacks {needed - declared}"
    assert declared <= needed, f"the README manifest asks for scopes nothing uses: {declared - needed}"


def test_http_mode_request_urls_point_at_the_bot_endpoint() -> None:
    http = [yaml.safe_load(block) for block in yaml_blocks() if "request_url" in block]
    assert len(http) == 1
    settings, command = http[0]["settings"], http[0]["features"]["slash_commands"][0]
    urls = [command["url"], settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    assert all(url == f"https://YOUR-HOST{EVENTS_PATH}" for url in urls)
    assert settings["socket_mode_enabled"] is False and command["command"] == "/forge"


def test_every_forge_usage_and_procfile_line_is_in_the_readme() -> None:
    for usage in USAGES.values():
        assert usage.replace("|", "\\|") in README, f"README lacks the usage `{usage}`"
    for line in (REPO / "Procfile").read_text().splitlines():
        assert line.strip() in README, f"README lacks the Procfile line `{line}`"
