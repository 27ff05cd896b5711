"""What decoding a label photo answers: the codes found, each read as a device label or not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.errors import Unprocessable
from app.labels.device_ids import DeviceLabel
from app.labels.parser import ParsedLabel

SHOWN_TEXT = 200  # characters of a non-label code's text that an error repeats

Label = ParsedLabel | DeviceLabel
LabelReader = Callable[[str], Label]  # text -> label, or LabelError (a platform's label rule)


@dataclass(frozen=True)
class DecodedCode:
    """One QR code's text and, when it is a device label, the label read from it."""

    text: str
    label: Label | None
    error: str | None
    reason: str | None = None  # the parser's reason when it is not a label

    def to_dict(self) -> dict[str, object]:
        """Return the API's shape for one code."""
        return {
            "text": self.text,
            "label": self.label.to_dict() if self.label else None,
            "error": self.error,
        }


@dataclass
class DecodeResult:
    """Every code found, how long it took, and which steps ran (the last one found them)."""

    codes: list[DecodedCode] = field(default_factory=list)
    elapsed_ms: int = 0
    steps_tried: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[Label]:
        return [code.label for code in self.codes if code.label is not None]

    def require_label(self) -> DecodeResult:
        """Return self when a device label was read or no code at all; else NotADeviceLabel."""
        if self.labels or not self.codes:
            return self
        raise NotADeviceLabel(self)


class NotADeviceLabel(Unprocessable):
    """The photo holds QR codes, none of them a device label: the parser's word on the first."""

    code = "not_a_device_label"

    def __init__(self, result: DecodeResult) -> None:
        first = result.codes[0]
        super().__init__(
            first.error or "This QR code is not a device label.",
            {
                "reason": first.reason,
                "codes": [
                    {
                        "text": code.text[:SHOWN_TEXT],
                        "truncated": len(code.text) > SHOWN_TEXT,
                        "reason": code.reason,
                        "message": code.error,
                    }
                    for code in result.codes
                ],
                "elapsed_ms": result.elapsed_ms,
            },
        )
