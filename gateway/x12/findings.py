"""Validation findings: one closed enum whose members read like the X12 standard.

Every member knows the envelope level it belongs to and the X12 code it renders to
(TA105 for the interchange, AK905 for a group, AK502/IK502 for a set, AK304/IK304 for
a segment, AK403/IK403 for an element). The ack builders in ``gateway.acks`` use only
the member and the pointers of a :class:`Finding`; they never parse ``message``.

``FILE`` level findings are not X12 at all (wrong encoding, binary junk, broken
tokenization). Their code is the TA1 note code that fits when the sender can still be
identified, or ``None`` when no acknowledgment can be addressed.

TA1 codes follow the X12 I18 code list (e.g. 018 = invalid control number value,
019 = invalid acknowledgment requested, 020 = invalid test indicator).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Level(Enum):
    FILE = "file"
    INTERCHANGE = "interchange"  # TA1 / TA105
    GROUP = "group"  # AK9 / AK905
    SET = "set"  # AK5 / IK5 (AK502)
    SEGMENT = "segment"  # AK3 / IK3 (AK304)
    ELEMENT = "element"  # AK4 / IK4 (AK403)


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FindingCode(Enum):
    """The closed list of findings. ``code`` is the X12 code for the member's level;
    ``code_997`` is used instead in a 004010 997 when that code list lacks ``code``."""

    def __new__(cls, level: Level, code: str | None, code_997: str | None = None,
                severity: Severity = Severity.ERROR):
        member = object.__new__(cls)
        member._value_ = len(cls.__members__) + 1  # members may share an X12 code
        member.level = level
        member.code = code
        member.code_997 = code_997 or code
        member.default_severity = severity
        return member

    # -- not X12 / tokenization (no X12 code of their own; TA1 code that fits) --
    NOT_X12 = (Level.FILE, None)
    UTF16_ENCODING = (Level.FILE, None)
    BINARY_CONTENT = (Level.FILE, "024")
    EMPTY_SEGMENT = (Level.FILE, "024")
    SEGMENT_TOO_LONG = (Level.FILE, "024")
    NON_ASCII_BYTE = (Level.FILE, "024")
    DATA_OUTSIDE_INTERCHANGE = (Level.FILE, None)
    BYTE_ORDER_MARK = (Level.FILE, None, None, Severity.INFO)
    # The pyx12 reference validator (GATEWAY_X12_VALIDATOR=pyx12) crashed: not the
    # sender's fault, so no ack code; the document is not accepted on that run.
    REFERENCE_VALIDATOR_FAILED = (Level.FILE, None)

    # -- interchange (TA105) --
    INTERCHANGE_CONTROL_NUMBER_MISMATCH = (Level.INTERCHANGE, "001")
    INVALID_SEGMENT_TERMINATOR = (Level.INTERCHANGE, "004")
    INVALID_SENDER_QUALIFIER = (Level.INTERCHANGE, "005")
    INVALID_SENDER_ID = (Level.INTERCHANGE, "006")
    INVALID_RECEIVER_QUALIFIER = (Level.INTERCHANGE, "007")
    INVALID_RECEIVER_ID = (Level.INTERCHANGE, "008")
    INVALID_AUTHORIZATION_QUALIFIER = (Level.INTERCHANGE, "010")
    INVALID_SECURITY_QUALIFIER = (Level.INTERCHANGE, "012")
    INVALID_INTERCHANGE_DATE = (Level.INTERCHANGE, "014")
    INVALID_INTERCHANGE_TIME = (Level.INTERCHANGE, "015")
    INVALID_STANDARDS_IDENTIFIER = (Level.INTERCHANGE, "016")
    INVALID_CONTROL_VERSION = (Level.INTERCHANGE, "017")
    INVALID_INTERCHANGE_CONTROL_NUMBER = (Level.INTERCHANGE, "018")
    INVALID_ACKNOWLEDGMENT_REQUESTED = (Level.INTERCHANGE, "019")
    INVALID_USAGE_INDICATOR = (Level.INTERCHANGE, "020")
    INVALID_GROUP_COUNT = (Level.INTERCHANGE, "021")
    INVALID_CONTROL_STRUCTURE = (Level.INTERCHANGE, "022")
    INTERCHANGE_TRAILER_MISSING = (Level.INTERCHANGE, "023")
    INVALID_INTERCHANGE_CONTENT = (Level.INTERCHANGE, "024")
    DUPLICATE_INTERCHANGE_CONTROL_NUMBER = (Level.INTERCHANGE, "025")
    INVALID_ELEMENT_SEPARATOR = (Level.INTERCHANGE, "026")
    INVALID_COMPONENT_SEPARATOR = (Level.INTERCHANGE, "027")

    # -- functional group (AK905) --
    FUNCTIONAL_GROUP_NOT_SUPPORTED = (Level.GROUP, "1")
    FUNCTIONAL_GROUP_VERSION_NOT_SUPPORTED = (Level.GROUP, "2")
    GROUP_TRAILER_MISSING = (Level.GROUP, "3")
    GROUP_CONTROL_NUMBER_MISMATCH = (Level.GROUP, "4")
    TRANSACTION_SET_COUNT_MISMATCH = (Level.GROUP, "5")
    INVALID_GROUP_CONTROL_NUMBER = (Level.GROUP, "6")
    # 19 exists only from 004030 on; the 004010 997 code list has no "not unique" code.
    DUPLICATE_GROUP_CONTROL_NUMBER = (Level.GROUP, "19", "6")
    # Not an error: the group's release or guide was validated against tables we hold
    # (the nearest release); a partner's strict setting makes it the error (code 2).
    RELEASE_SUBSTITUTED = (Level.GROUP, "2", None, Severity.INFO)

    # -- transaction set (AK502 / IK502) --
    TRANSACTION_SET_NOT_SUPPORTED = (Level.SET, "1")
    SET_TRAILER_MISSING = (Level.SET, "2")
    SET_CONTROL_NUMBER_MISMATCH = (Level.SET, "3")
    SEGMENT_COUNT_MISMATCH = (Level.SET, "4")
    SEGMENTS_IN_ERROR = (Level.SET, "5")
    INVALID_TRANSACTION_SET_IDENTIFIER = (Level.SET, "6")
    INVALID_TRANSACTION_SET_CONTROL_NUMBER = (Level.SET, "7")
    DUPLICATE_TRANSACTION_CONTROL_NUMBER = (Level.SET, "23")
    # The set's findings beyond the per-set cap, summarised in one (AK502 5).
    ERRORS_NOT_LISTED = (Level.SET, "5")

    # -- segment (AK304 / IK304) --
    UNRECOGNIZED_SEGMENT_ID = (Level.SEGMENT, "1")
    UNEXPECTED_SEGMENT = (Level.SEGMENT, "2")
    MANDATORY_SEGMENT_MISSING = (Level.SEGMENT, "3")
    LOOP_OCCURS_OVER_MAXIMUM = (Level.SEGMENT, "4")
    SEGMENT_EXCEEDS_MAXIMUM_USE = (Level.SEGMENT, "5")
    SEGMENT_NOT_IN_DEFINED_SET = (Level.SEGMENT, "6")
    SEGMENT_NOT_IN_PROPER_SEQUENCE = (Level.SEGMENT, "7")
    SEGMENT_HAS_ELEMENT_ERRORS = (Level.SEGMENT, "8")

    # -- data element (AK403 / IK403) --
    MANDATORY_ELEMENT_MISSING = (Level.ELEMENT, "1")
    CONDITIONAL_ELEMENT_MISSING = (Level.ELEMENT, "2")
    TOO_MANY_ELEMENTS = (Level.ELEMENT, "3")
    ELEMENT_TOO_SHORT = (Level.ELEMENT, "4")
    ELEMENT_TOO_LONG = (Level.ELEMENT, "5")
    INVALID_CHARACTER = (Level.ELEMENT, "6")
    NON_ASCII_CHARACTER = (Level.ELEMENT, "6")
    INVALID_NUMERIC_VALUE = (Level.ELEMENT, "6")
    INVALID_CODE_VALUE = (Level.ELEMENT, "7")
    INVALID_DATE = (Level.ELEMENT, "8")
    INVALID_TIME = (Level.ELEMENT, "9")
    EXCLUSION_CONDITION_VIOLATED = (Level.ELEMENT, "10")
    TOO_MANY_REPETITIONS = (Level.ELEMENT, "12", "3")
    TOO_MANY_COMPONENTS = (Level.ELEMENT, "13", "3")
    # HL hierarchy (856): an id used twice, a parent that is not an earlier HL, a level
    # that cannot sit under its parent's level. X12 has no code of its own: 7.
    HIERARCHY_ID_NOT_UNIQUE = (Level.ELEMENT, "7")
    HIERARCHY_PARENT_UNKNOWN = (Level.ELEMENT, "7")
    HIERARCHY_LEVEL_MISPLACED = (Level.ELEMENT, "7")

    def x12_code(self, kind: str = "999") -> str | None:
        """The code to write in an acknowledgment of ``kind`` ("TA1", "997" or "999")."""
        return self.code_997 if kind == "997" else self.code


@dataclass(frozen=True)
class Finding:
    """One problem found in received data, with pointers to where it is.

    ``segment_position`` is 1-based within the transaction set (ST = 1), as AK3
    reports it; ``element_position`` / ``component_position`` are 1-based.
    ``group_index`` / ``set_index`` (0-based ordinals within the interchange / group)
    disambiguate duplicate control numbers; findings from other validators may leave
    them ``None`` and are then matched by control number.
    """

    code: FindingCode
    message: str
    interchange_index: int | None = None
    group_control_number: str | None = None
    transaction_control_number: str | None = None
    segment_id: str | None = None
    segment_position: int | None = None
    element_position: int | None = None
    component_position: int | None = None
    value: str | None = None
    offset: int | None = None
    severity: Severity | None = None
    group_index: int | None = None
    set_index: int | None = None
    rule: str | None = None  # the rule broken, as X12 writes it: "P020304", "HL02 parent"
    element_reference: str | None = None  # data element number (AK402/IK402), e.g. "355"

    @property
    def level(self) -> Level:
        return self.code.level

    @property
    def is_error(self) -> bool:
        return (self.severity or self.code.default_severity) is Severity.ERROR

    @property
    def element_ref(self) -> str | None:
        """``PO102`` style reference, or ``None`` when no element is pointed at."""
        if self.segment_id and self.element_position:
            ref = f"{self.segment_id}{self.element_position:02d}"
            return f"{ref}-{self.component_position:02d}" if self.component_position else ref
        return None

    def to_dict(self) -> dict:
        """The per-error JSON of DESIGN §4. ``code`` is the enum member's name (stable and
        readable, e.g. ``SEGMENT_COUNT_MISMATCH``); the X12 code is in ``code.code``."""
        out = {
            "code": self.code.name,
            "message": self.message,
            "segment_id": self.segment_id,
            "segment_index": self.segment_position,
            "element": self.element_ref,
        }
        if self.rule:
            out["rule"] = self.rule
        if self.element_reference:
            out["element_reference"] = self.element_reference
        return out
