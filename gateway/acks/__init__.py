"""Acknowledgments we send: TA1, 997 and 999 built from reader findings (sans-IO)."""

from gateway.acks.builder import Ack, ControlNumbers, build_acknowledgments
from gateway.acks.functional import build_997, build_999
from gateway.acks.ta1 import build_ta1

__all__ = ["Ack", "ControlNumbers", "build_acknowledgments", "build_997", "build_999",
           "build_ta1"]
