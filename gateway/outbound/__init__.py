"""Outbound documents: a canonical event from the ERP becomes the partner's X12, is
enveloped with our control numbers, validated, sent on the partner's channel, recorded,
and then chased until the partner's 997/999 answers it (or its deadline passes).

``reverse_map`` and ``envelope`` are sans-IO; ``issue``, ``send`` and ``acks`` do the IO.
"""
