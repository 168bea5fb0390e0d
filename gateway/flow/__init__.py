"""The document flow per purchase order: 850 -> 997/999 -> 855 -> 856 -> 810.

- :mod:`.steps` (pure): which step an event is, and the quantities it states per line;
- :mod:`.rules` (pure): the flow rules as data (``maps/flow/default.yaml``, a partner's
  ``flow:`` overrides) and the status of each step at a given time;
- :mod:`.record`: the hook ``record_event`` calls, in its transaction;
- :mod:`.match`: the three-way match (ordered vs shipped vs invoiced), wired;
- :mod:`.deadlines`: ``check_flow_deadlines(rt, now)``, run beside the overdue-ack check;
- :mod:`.timeline`: what the API and the console show of one PO, and what a partner owes.
"""
