"""The ``secrets`` image check: ``secret`` findings from every layer's files and from the image config.

Files: every record the ``secrets`` scanner left in any layer (:attr:`MergedImage.history`), including files a later
layer deleted or replaced: their bytes still ship in the image, so they are reported with ``deleted: true`` and the
layer that holds them. The same secret (fingerprint) in the same file of the same layer is reported once, at its
first line, by its most severe rule.

Config: ``Env`` (path ``config:Env``, line = entry number), ``Labels`` (``config:Labels``), entry ``Entrypoint`` /
``Cmd`` arguments (``config:Entrypoint``, ``config:Cmd``) and each history entry's ``created_by`` (``history:N``,
N its index in ``config.history``; the layer it built, when it built one): ``ENV``/``ARG`` values and BuildKit's
``RUN |1 NPM_TOKEN=...`` prefixes, ``curl -u``, URLs with passwords.

Files over the scanner's size cap are counted per layer by the walker; each layer with any gets a
``scan-incomplete`` finding saying how many files were not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding, IncompleteFinding, SecretFinding, Severity, finding_id
from imagescan.models import RawFinding
from imagescan.scan import ImageAnalysis
from imagescan.secrets.cataloger import MAX_FILE_SIZE, NAME
from imagescan.secrets.scanner import scan

REMEDIATION = (
    "Revoke and rotate the credential, then keep it out of the image: pass build-time secrets with BuildKit "
    "secret mounts (RUN --mount=type=secret), not ARG, ENV or COPY, and runtime secrets from a secret store. "
    "Deleting the file in a later layer does not remove it: every layer ships."
)

Location = tuple[str, str | None, bool]
"""(path, layer diff_id, deleted)."""


def _config_strings(config: dict[str, Any]) -> Iterator[tuple[str, int | None, str, str | None]]:
    """(path, line, text, layer) for every config string that may hold a secret."""
    run: dict[str, Any] = config["config"] if isinstance(config.get("config"), dict) else {}
    for field in ("Env", "Entrypoint", "Cmd"):
        items = run.get(field)
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, str):
                    yield f"config:{field}", i + 1, item, None
    labels = run.get("Labels")
    if isinstance(labels, dict):
        for i, (key, value) in enumerate(labels.items()):
            yield "config:Labels", i + 1, f"{key}={value}", None
    diff_ids = config.get("rootfs", {}).get("diff_ids") if isinstance(config.get("rootfs"), dict) else None
    layers = [d for d in diff_ids if isinstance(d, str)] if isinstance(diff_ids, list) else []
    history = config.get("history")
    built = 0
    for n, entry in enumerate(history if isinstance(history, list) else []):
        if not isinstance(entry, dict):
            continue
        layer = None
        if not entry.get("empty_layer"):
            layer = layers[built] if built < len(layers) else None
            built += 1
        created_by = entry.get("created_by")
        if isinstance(created_by, str):
            yield f"history:{n}", None, created_by, layer


class SecretsCheck:
    name = "secrets"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        best: dict[tuple[str, str | None, str], tuple[RawFinding, Location]] = {}

        def keep(raw: RawFinding, location: Location) -> None:
            key = (location[0], location[1], raw.fingerprint or "")
            held = best.get(key)
            if held is None or _better(raw, held[0]):
                best[key] = (raw, location)

        for diff_id, record in analysis.merged.history:
            if record.cataloger != NAME:
                continue
            deleted = not analysis.merged.live(record.path, diff_id)
            for raw in record.findings:
                keep(raw, (record.path, diff_id, deleted))
        for path, line, text, layer in _config_strings(analysis.image.config):
            for match in scan(text.encode("utf-8", "surrogateescape")):
                raw = match.raw()
                raw.line = line
                keep(raw, (path, layer, False))
        out: list[Finding] = [self._finding(analysis, raw, loc) for raw, loc in best.values()]
        out.extend(self._oversize(analysis))
        return out

    @staticmethod
    def _finding(analysis: ImageAnalysis, raw: RawFinding, location: Location) -> SecretFinding:
        path, layer, deleted = location
        fingerprint = raw.fingerprint or ""
        where = f"layer {layer[:19]}" if layer else "the image config"
        description = f"{raw.title} found in {path} ({where})."
        if deleted:
            description += " A later layer deleted or replaced the file, but the layer holding it still ships."
        return SecretFinding(
            id=finding_id(analysis.digest, "secret", raw.rule, path, layer or "", fingerprint),
            severity=Severity(raw.severity), title=f"{raw.title} in {path}", description=description,
            remediation=REMEDIATION, rule=raw.rule, path=path, layer_diff_id=layer, deleted=deleted, line=raw.line,
            masked=raw.masked or "*****", fingerprint=fingerprint,
        )

    @staticmethod
    def _oversize(analysis: ImageAnalysis) -> Iterator[IncompleteFinding]:
        cap = f"{MAX_FILE_SIZE // 1024} KiB" if MAX_FILE_SIZE < 1 << 20 else f"{MAX_FILE_SIZE >> 20} MiB"
        for layer in analysis.layers:
            count = layer.oversize.get(NAME, 0)
            if count:
                files = "file" if count == 1 else "files"
                yield IncompleteFinding(
                    id=finding_id(analysis.digest, "scan-incomplete", "secrets-file-too-large", layer.diff_id),
                    severity=Severity.INFORMATIONAL,
                    title=f"{count} {files} over {cap} in layer {layer.diff_id[:19]} not checked for secrets",
                    code="secrets-file-too-large", layer_diff_id=layer.diff_id,
                    reason=f"{count} {files} larger than the secret scanner's {cap} cap were not read",
                )


def _better(a: RawFinding, b: RawFinding) -> bool:
    """Prefer the more severe rule, then the earlier line."""
    ra, rb = Severity(a.severity).rank, Severity(b.severity).rank
    if ra != rb:
        return ra < rb
    return (a.line or 0) < (b.line or 0)
