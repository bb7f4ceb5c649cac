"""The hygiene policy: which rules run, at which severity, and what each one ignores.

A policy file is YAML (read with ``yaml.safe_load``) or JSON (by the ``.json`` suffix)::

    rules:
      tool-shell:            {enabled: false}       # a rule ID...
      config-root-user:      {severity: HIGH}
      "tool-*":              {severity: MEDIUM}     # ...or a glob over rule IDs
      file-setuid-unexpected:
        ignore: ["usr/lib/dbus-1.0/*"]              # globs over what a finding is about (path, package, tool...)

Without a file every rule is enabled at its catalogue severity and ignores nothing (the default policy). For each
rule, settings under its exact ID win over those of matching globs; among globs, later entries win. Unknown rule
IDs, globs that match no rule, unknown keys and bad severities are errors (:class:`PolicyError`), so a typo never
silently turns a rule off or on.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from imagescan.errors import ScanError
from imagescan.findings import Severity
from imagescan.hygiene.rules import RULES, RULES_BY_ID, Rule
from imagescan.hygiene.userfiles import read_user_file

_SETTING_KEYS = frozenset({"enabled", "severity", "ignore"})


class PolicyError(ScanError):
    """The policy file is missing, unreadable or invalid. The message says where."""


@dataclass(frozen=True)
class RuleSetting:
    enabled: bool | None = None
    severity: Severity | None = None
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    settings: dict[str, RuleSetting] = field(default_factory=dict)
    """Rule ID or glob → its settings, in file order."""
    source: str = "default"

    def _effective(self, rule: Rule) -> RuleSetting:
        enabled: bool | None = None
        severity: Severity | None = None
        ignore: list[str] = []
        exact = self.settings.get(rule.id)
        for key, setting in self.settings.items():
            if key == rule.id or not fnmatch.fnmatchcase(rule.id, key):
                continue
            enabled = setting.enabled if setting.enabled is not None else enabled
            severity = setting.severity or severity
            ignore.extend(setting.ignore)
        if exact is not None:
            enabled = exact.enabled if exact.enabled is not None else enabled
            severity = exact.severity or severity
            ignore.extend(exact.ignore)
        return RuleSetting(enabled=enabled, severity=severity, ignore=tuple(ignore))

    def enabled(self, rule: Rule) -> bool:
        return self._effective(rule).enabled is not False

    def severity(self, rule: Rule) -> Severity:
        return self._effective(rule).severity or rule.severity

    def decide(self, rule: Rule, subjects: Iterable[str] = ()) -> Severity | None:
        """The severity to report a finding of ``rule`` about ``subjects`` at, or None when the policy drops it
        (rule disabled, or a subject matches one of its ``ignore`` globs)."""
        setting = self._effective(rule)
        if setting.enabled is False:
            return None
        for subject in subjects:
            if any(fnmatch.fnmatchcase(subject, pattern) for pattern in setting.ignore):
                return None
        return setting.severity or rule.severity


DEFAULT_POLICY = Policy()


def _setting(key: str, value: object, where: str) -> RuleSetting:
    if value is None:
        return RuleSetting()
    if isinstance(value, bool):
        return RuleSetting(enabled=value)  # shorthand: `tool-shell: false`
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: rules.{key} must be a mapping (enabled, severity, ignore) or true/false")
    unknown = sorted(str(k) for k in value if k not in _SETTING_KEYS)
    if unknown:
        raise PolicyError(f"{where}: rules.{key}: unknown setting {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(_SETTING_KEYS))})")
    enabled = value.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise PolicyError(f"{where}: rules.{key}.enabled must be true or false")
    severity = None
    if value.get("severity") is not None:
        text = value["severity"]
        try:
            severity = Severity(str(text).strip().upper())
        except ValueError:
            raise PolicyError(f"{where}: rules.{key}.severity {text!r} is not one of "
                              f"{', '.join(s.value for s in Severity)}") from None
    ignore = value.get("ignore") or []
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(ignore, list) or not all(isinstance(p, str) and p for p in ignore):
        raise PolicyError(f"{where}: rules.{key}.ignore must be a list of glob patterns")
    return RuleSetting(enabled=enabled, severity=severity, ignore=tuple(ignore))


def policy_from_mapping(document: object, where: str = "policy") -> Policy:
    """Validate a parsed policy document. Raises :class:`PolicyError`."""
    if document is None:
        return Policy(source=where)
    if not isinstance(document, Mapping):
        raise PolicyError(f"{where}: the policy must be a mapping with a `rules` key")
    unknown = sorted(str(k) for k in document if k != "rules")
    if unknown:
        raise PolicyError(f"{where}: unknown key {', '.join(unknown)} (the policy has one key: rules)")
    rules = document.get("rules") or {}
    if not isinstance(rules, Mapping):
        raise PolicyError(f"{where}: `rules` must map rule IDs (or globs over them) to settings")
    settings: dict[str, RuleSetting] = {}
    for key, value in rules.items():
        if not isinstance(key, str) or not key:
            raise PolicyError(f"{where}: rule keys must be rule IDs or globs, not {key!r}")
        if key not in RULES_BY_ID and not any(fnmatch.fnmatchcase(r.id, key) for r in RULES):
            raise PolicyError(f"{where}: rules.{key}: no such rule (see the rule catalogue in the README)")
        settings[key] = _setting(key, value, where)
    return Policy(settings=settings, source=where)


def load_policy(path: str | Path) -> Policy:
    """Read a policy file: JSON when it ends in ``.json``, YAML otherwise. Raises :class:`PolicyError`."""
    path = Path(path)
    raw = read_user_file(path, "policy", PolicyError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"policy {path}: not UTF-8 text") from exc
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise PolicyError(f"policy {path}: cannot parse: {' '.join(str(exc).split())[:200]}") from exc
    except RecursionError as exc:
        raise PolicyError(f"policy {path}: nested too deeply") from exc
    return policy_from_mapping(document, str(path))
