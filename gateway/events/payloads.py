"""Payload schemas of the canonical events (DESIGN §3), one marshmallow schema each.

These are the contract with every ERP and planning adapter. Unknown keys are
rejected, so a typo in a map fails its map test instead of reaching an ERP.
Optional fields may be ``null``; the fields DESIGN §3 names are always present.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from gateway.events.fields import DateOrDateTime, DecimalString, IsoDate, IsoDateTime

ACK_TYPES = ("accepted", "accepted_with_changes", "rejected")
LINE_STATUSES = (
    "accepted",
    "accepted_with_changes",
    "backordered",
    "rejected",
    "deleted",
    "on_hold",
)


def _opt(field_cls, **kwargs):
    """An optional, nullable field (the common case for business data)."""
    return field_cls(required=False, allow_none=True, **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PartySchema(_Strict):
    name = _opt(fields.String)
    id = _opt(fields.String)
    id_qualifier = _opt(fields.String)
    address_lines = _opt(fields.List, cls_or_instance=fields.String())
    city = _opt(fields.String)
    state = _opt(fields.String)
    postal_code = _opt(fields.String)
    country = _opt(fields.String)


class OrderLineSchema(_Strict):
    line_number = fields.String(required=True)
    buyer_part = _opt(fields.String)
    vendor_part = _opt(fields.String)
    upc = _opt(fields.String)
    item_number = _opt(fields.String)
    description = _opt(fields.String)
    # always present; null when the source has none (a UBL LineItem's Quantity is 0..1)
    quantity = DecimalString(required=True, allow_none=True)
    uom = _opt(fields.String)
    unit_price = _opt(DecimalString)
    requested_date = _opt(IsoDate)


class PurchaseOrderSchema(_Strict):
    """``purchase_order.received`` (inbound 850) and ``purchase_order.issued`` (outbound)."""

    po_number = fields.String(required=True)
    po_date = IsoDate(required=True, allow_none=True)
    purpose = _opt(fields.String)
    order_type = _opt(fields.String)
    currency = _opt(fields.String)
    buyer = _opt(fields.Nested, nested=PartySchema)
    ship_to = _opt(fields.Nested, nested=PartySchema)
    bill_to = _opt(fields.Nested, nested=PartySchema)
    vendor = _opt(fields.Nested, nested=PartySchema)
    requested_date = _opt(IsoDate)
    total_amount = _opt(DecimalString)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)


class LineAcknowledgmentSchema(_Strict):
    """One ACK segment of an acknowledged line: a line may carry several (60 accepted, 40
    backordered), so an acknowledged line lists them all in ``acknowledgments``."""

    status = fields.String(required=True, validate=validate.OneOf(LINE_STATUSES))
    status_code = _opt(fields.String)
    quantity = _opt(DecimalString)
    uom = _opt(fields.String)
    date_qualifier = _opt(fields.String)  # ACK04 (068: current schedule ship, 067: delivery, ...)
    date = _opt(IsoDate)


class AckLineSchema(_Strict):
    line_number = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(LINE_STATUSES))
    status_code = _opt(fields.String)
    buyer_part = _opt(fields.String)
    vendor_part = _opt(fields.String)
    item_number = _opt(fields.String)
    ordered_quantity = _opt(DecimalString)
    quantity = _opt(DecimalString)
    uom = _opt(fields.String)
    unit_price = _opt(DecimalString)
    scheduled_date = _opt(IsoDate)
    # every ACK of the line in order; the fields above describe the first (additive)
    acknowledgments = _opt(fields.List, cls_or_instance=fields.Nested(LineAcknowledgmentSchema))


class PurchaseOrderAckSchema(_Strict):
    """``purchase_order.acknowledged`` (855, cXML ConfirmationRequest, UBL OrderResponse)."""

    po_number = fields.String(required=True)
    ack_type = fields.String(required=True, validate=validate.OneOf(ACK_TYPES))
    ack_type_code = _opt(fields.String)
    ack_date = IsoDate(required=True, allow_none=True)
    po_date = _opt(IsoDate)
    supplier_order_number = _opt(fields.String)
    currency = _opt(fields.String)
    lines = fields.List(fields.Nested(AckLineSchema), required=True)


class CarrierSchema(_Strict):
    scac = _opt(fields.String)
    name = _opt(fields.String)
    mode = _opt(fields.String)


class ShippedLineSchema(_Strict):
    line_number = _opt(fields.String)
    buyer_part = _opt(fields.String)
    vendor_part = _opt(fields.String)
    upc = _opt(fields.String)
    item_number = _opt(fields.String)
    quantity_shipped = DecimalString(required=True, allow_none=True)  # UBL DeliveredQuantity is 0..1
    uom = _opt(fields.String)
    quantity_ordered = _opt(DecimalString)


class ShippedOrderSchema(_Strict):
    po_number = fields.String(required=True)
    lines = fields.List(fields.Nested(ShippedLineSchema), required=True)


class ShipmentSchema(_Strict):
    """``shipment.noticed`` (856, cXML ShipNoticeRequest, UBL DespatchAdvice)."""

    shipment_id = fields.String(required=True)
    shipped_at = DateOrDateTime(required=True, allow_none=True)
    expected_delivery = DateOrDateTime(required=True, allow_none=True)
    carrier = fields.Nested(CarrierSchema, required=True, allow_none=True)
    tracking_numbers = fields.List(fields.String(), required=True)
    ship_from = fields.Nested(PartySchema, required=True, allow_none=True)
    ship_to = fields.Nested(PartySchema, required=True, allow_none=True)
    orders = fields.List(fields.Nested(ShippedOrderSchema), required=True)
    package_count = fields.Integer(required=True, allow_none=True, strict=True)
    bill_of_lading = _opt(fields.String)


class InvoiceLineSchema(_Strict):
    line_number = _opt(fields.String)
    buyer_part = _opt(fields.String)
    vendor_part = _opt(fields.String)
    upc = _opt(fields.String)
    item_number = _opt(fields.String)
    description = _opt(fields.String)
    quantity = DecimalString(required=True, allow_none=True)  # UBL InvoicedQuantity is 0..1
    uom = _opt(fields.String)
    unit_price = DecimalString(required=True, allow_none=True)
    amount = DecimalString(required=True, allow_none=True)


class ChargeSchema(_Strict):
    type = fields.String(required=True, validate=validate.OneOf(("allowance", "charge")))
    code = _opt(fields.String)
    description = _opt(fields.String)
    amount = DecimalString(required=True, allow_none=True)


INVOICE_TYPES = ("debit_invoice", "credit_memo", "debit_memo")


class InvoiceSchema(_Strict):
    """``invoice.received`` (810, cXML InvoiceDetailRequest, UBL Invoice)."""

    invoice_number = fields.String(required=True)
    # 810 BIG07 or cXML @purpose (a credit memo: ``credit_memo``); null: an ordinary
    # invoice. A credit memo names the invoice it credits in ``original_invoice_number``
    # (810 REF*OI, cXML InvoiceIDInfo) and is followed by an ``invoice.credited`` event
    # naming that invoice's events.
    invoice_type = _opt(fields.String)
    original_invoice_number = _opt(fields.String)
    invoice_date = IsoDate(required=True, allow_none=True)
    po_number = fields.String(required=True, allow_none=True)
    po_date = _opt(IsoDate)
    currency = _opt(fields.String)
    bill_to = _opt(fields.Nested, nested=PartySchema)
    remit_to = _opt(fields.Nested, nested=PartySchema)
    lines = fields.List(fields.Nested(InvoiceLineSchema), required=True)
    charges = fields.List(fields.Nested(ChargeSchema), required=True)
    tax_total = DecimalString(required=True, allow_none=True)
    total_amount = DecimalString(required=True)


class DeliveryDateChangedSchema(_Strict):
    """``delivery_date.changed``: derived from an 855/856 against the PO."""

    po_number = fields.String(required=True)
    line_number = fields.String(required=True, allow_none=True)
    previous_date = IsoDate(required=True)
    new_date = IsoDate(required=True)
    days_late = fields.Integer(required=True, strict=True)
    source_type = _opt(fields.String)


class InvoiceDiscrepancySchema(_Strict):
    """``invoice.discrepancy``: derived from an 810 against the PO and the ASNs."""

    po_number = fields.String(required=True)
    invoice_number = fields.String(required=True)
    line_number = fields.String(required=True)
    field = fields.String(required=True, validate=validate.OneOf(("quantity", "unit_price")))
    ordered = DecimalString(required=True, allow_none=True)
    shipped = DecimalString(required=True, allow_none=True)
    invoiced = DecimalString(required=True, allow_none=True)


class FlowStepAlertSchema(_Strict):
    """``purchase_order.step_overdue`` / ``purchase_order.step_out_of_order``: a step of a
    PO's flow (gateway.flow) missing past its due time, late, or before a step it needs."""

    po_number = fields.String(required=True)
    step = fields.String(required=True)  # functional_ack, order_ack, ship_notice, invoice
    expected = fields.String(required=True)  # the document in words ("855 PO acknowledgment")
    status = fields.String(required=True, validate=validate.OneOf(("missing", "late", "out_of_order")))
    due_at = DateOrDateTime(required=True, allow_none=True)
    done_at = _opt(DateOrDateTime)
    detected_at = DateOrDateTime(required=True)
    rule = fields.String(required=True)
    message = fields.String(required=True)


class AckStatusSchema(_Strict):
    """``ack.received`` / ``ack.overdue``: a 997/999 for a document we sent.

    ``status``: accepted, accepted_with_errors, rejected (``ack.received``) or overdue."""

    document_id = fields.String(required=True)
    status = fields.String(required=True)
    errors = fields.List(fields.Dict(), required=True)
    po_number = _opt(fields.String)
    transaction_set = _opt(fields.String)  # what we sent (850)
    ack_document_id = _opt(fields.String)  # the received 997/999


class DocumentRejectedSchema(_Strict):
    """``document.rejected``: any rejection, with its reasons."""

    document_id = fields.String(required=True)
    reason = fields.String(required=True)
    errors = fields.List(fields.Dict(), required=True)


class _CompensationSchema(_Strict):
    """What every compensating event carries: the events it takes back or replaces."""

    original_event_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    reason = fields.String(required=True)
    # the event that caused this one (the later 855, the cancelling 850, the credit
    # memo); null for a void, which a person caused
    replaced_by_event_id = fields.String(required=True, allow_none=True)


class DocumentVoidedSchema(_CompensationSchema):
    """``document.voided``: support voided a document whose events were delivered
    (wrong partner, wrong map version): every target reverses what it applied."""

    document_id = fields.String(required=True)
    voided_at = IsoDateTime(required=True, aware=True)


class AcknowledgmentSupersededSchema(_CompensationSchema):
    """``acknowledgment.superseded``: a later 855 (ConfirmationRequest, OrderResponse)
    for the same PO replaces the earlier acknowledgments."""

    po_number = fields.String(required=True)


class PurchaseOrderCancelledSchema(_CompensationSchema):
    """``purchase_order.cancelled``: an 850 with BEG01 ``01`` (cXML ``type="delete"``)
    cancels the PO its earlier events carried."""

    po_number = fields.String(required=True)


class InvoiceCreditedSchema(_CompensationSchema):
    """``invoice.credited``: a credit memo (810 BIG07 ``CR``, cXML ``creditMemo``) credits an earlier invoice."""

    invoice_number = fields.String(required=True)  # the invoice credited
    credit_memo_number = fields.String(required=True)
    credit_amount = DecimalString(required=True, allow_none=True)
    currency = _opt(fields.String)
    po_number = _opt(fields.String)


PAYLOAD_SCHEMAS: dict[str, type[Schema]] = {
    "purchase_order.received": PurchaseOrderSchema,
    "purchase_order.issued": PurchaseOrderSchema,
    "purchase_order.acknowledged": PurchaseOrderAckSchema,
    "shipment.noticed": ShipmentSchema,
    "invoice.received": InvoiceSchema,
    "delivery_date.changed": DeliveryDateChangedSchema,
    "invoice.discrepancy": InvoiceDiscrepancySchema,
    "purchase_order.step_overdue": FlowStepAlertSchema,
    "purchase_order.step_out_of_order": FlowStepAlertSchema,
    "ack.received": AckStatusSchema,
    "ack.overdue": AckStatusSchema,
    "document.rejected": DocumentRejectedSchema,
    "document.voided": DocumentVoidedSchema,
    "acknowledgment.superseded": AcknowledgmentSupersededSchema,
    "purchase_order.cancelled": PurchaseOrderCancelledSchema,
    "invoice.credited": InvoiceCreditedSchema,
}
#: the compensating event types: each names the events it takes back or replaces
COMPENSATING_TYPES = ("document.voided", "acknowledgment.superseded", "purchase_order.cancelled", "invoice.credited")
