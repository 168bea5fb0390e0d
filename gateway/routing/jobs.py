"""Where RQ jobs queued by earlier releases find their functions: they name
``gateway.routing.jobs.<name>``. New jobs are enqueued by reference from :mod:`gateway.queue`."""

from gateway.queue import deliver, deliver_batch, process_document, send_ack

__all__ = ["deliver", "deliver_batch", "process_document", "send_ack"]
