"""Read an inbound 997/999 (a partner's answer to what we sent) into per-set results.

Sans-IO: a transaction set in, :class:`GroupAck` out. The 997/999 names our group by
AK102 (our GS06) and each set by AK201/AK202 (our ST01/ST02); AK5/IK5 gives each set's
answer and AK9 the group's. A set the partner did not list under its own AK2 takes the
group's answer (a group rejected outright has no AK2 loops at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.x12.model import TransactionSet

# AK501/IK501 and AK901: A accepted, E accepted with errors noted, P partially accepted
# (AK9 only), R rejected, M/W/X rejected (message authentication, assurance, content).
STATUS = {"A": "accepted", "E": "accepted_with_errors", "P": "accepted_with_errors",
          "R": "rejected", "M": "rejected", "W": "rejected", "X": "rejected"}


@dataclass
class SetAck:
    set_id: str  # AK201
    control_number: str  # AK202
    status: str  # accepted, accepted_with_errors, rejected
    code: str  # AK501/IK501 as sent
    errors: list[dict] = field(default_factory=list)


@dataclass
class GroupAck:
    kind: str  # 997, 999
    functional_id: str  # AK101: which of our groups (PO for our 850s)
    group_control_number: str  # AK102
    status: str | None  # from AK901; None when the 997 carries no AK9
    code: str
    sets: list[SetAck] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # AK905..AK909: the group's own errors

    def result_for(self, set_id: str, control_number: str) -> tuple[str, list[dict]] | None:
        """The answer to one set of ours: its own AK2 loop, else the group's AK9."""
        for s in self.sets:
            if s.set_id == set_id and _same_number(s.control_number, control_number):
                return s.status, s.errors
        if self.status is not None:
            return self.status, self.errors
        return None


def _same_number(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    return a == b or (a.isdigit() and b.isdigit() and int(a) == int(b))


def read_functional_ack(ts: TransactionSet, component: str = ">") -> GroupAck | None:
    """The group ack in a 997/999 set; None when it has no AK1 (nothing to match)."""
    group: GroupAck | None = None
    current: SetAck | None = None
    segment: dict | None = None
    for seg in ts.segments:
        tag, get = seg.tag, seg.get
        if tag == "AK1":
            group = GroupAck(ts.set_id, get(1), get(2), None, "")
        elif group is None:
            continue
        elif tag == "AK2":
            current = SetAck(get(1), get(2), "accepted", "")
            group.sets.append(current)
            segment = None
        elif tag in ("AK3", "IK3") and current is not None:
            segment = {"segment_id": get(1), "segment_position": get(2), "loop": get(3) or None,
                       "code": get(4) or None, "element_position": None, "bad_value": None}
            current.errors.append(segment)
        elif tag in ("AK4", "IK4") and current is not None:
            error = {"segment_id": segment["segment_id"] if segment else None,
                     "segment_position": segment["segment_position"] if segment else None,
                     "loop": None, "element_position": get(1).replace(component, "-"),
                     "element_reference": get(2) or None, "code": get(3) or None, "bad_value": get(4) or None}
            if segment is not None and segment.get("element_position") is None and not segment["code"]:
                segment.update(error)  # an AK3 without a code of its own: its AK4 says what was wrong
            else:
                current.errors.append(error)
        elif tag in ("AK5", "IK5") and current is not None:
            current.code = get(1)
            current.status = STATUS.get(get(1), "rejected")
            current.errors += [{"set_error_code": c} for c in seg.elements[1:6] if c]
            current, segment = None, None
        elif tag == "AK9":
            group.code = get(1)
            group.status = STATUS.get(get(1), "rejected")
            group.errors = [{"group_error_code": c} for c in seg.elements[4:9] if c]
    return group


@dataclass
class InterchangeAck:
    """A TA1: the partner's answer to one interchange envelope of ours."""

    control_number: str  # TA101: our ISA13
    code: str  # TA104: A, E, R
    status: str  # accepted, accepted_with_errors, rejected
    note_code: str  # TA105: why (I18 code list), 000 when there is nothing to say


def read_ta1s(raw: bytes, element: str, segment: str) -> list[InterchangeAck]:
    """The TA1 segments of one interchange's bytes (they stand between ISA and the groups)."""
    if b"TA1" not in raw:  # the common case: a 997/999 or a document, no TA1 at all
        return []
    acks = []
    for text in raw.decode("latin-1").split(segment):
        elements = text.strip().split(element)
        if elements[0] == "TA1" and len(elements) > 4:
            note = elements[5] if len(elements) > 5 else ""
            acks.append(InterchangeAck(elements[1], elements[4], STATUS.get(elements[4], "rejected"), note))
    return acks
