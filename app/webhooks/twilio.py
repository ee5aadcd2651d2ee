"""Twilio webhooks: check the signature, store, queue, answer fast.

Processing of a reply is asynchronous: the webhook only makes the message durable in
the inbox and queues a job. If Redis is down the row is still there and the clock's
sweep queues it later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

from flask import Blueprint, Response, abort, request

from app import metrics
from app.core.channels import Channel
from app.core.inputs import provider_sid, record_id
from app.extensions import db
from app.messaging.channels.twilio_common import body_matches, carries_body_hash
from app.messaging.inbox import reply_group, store_inbound
from app.messaging.status import record_status
from app.queueing import JobName
from app.runtime import get_runtime

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signed_url(public_base_url: str) -> str:
    """The URL Twilio signed: our public base plus the path and query exactly as sent.

    `request.url` would decode escapes such as %7E and lose https behind a proxy, so
    the raw request URI from the WSGI server is used when it gives one.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        raw = quote(request.environ.get("SCRIPT_NAME", "") + request.environ.get("PATH_INFO", ""))
        query = request.environ.get("QUERY_STRING", "")
        raw = f"{raw}?{query}" if query else raw
    if raw.endswith("?"):
        raw = raw[:-1]
    return public_base_url.rstrip("/") + raw


def require_signature(channel_name: Channel) -> None:
    """Abort with 403 unless the request carries the provider's valid signature of our
    public URL and its form (every value of a repeated key); a missing header is a 403
    too, never an error. A URL with `bodySHA256` (a JSON body) also needs the raw body
    to hash to it."""
    runtime = get_runtime()
    channel = runtime.channel(channel_name)
    url = signed_url(runtime.public_base_url)
    signature = request.headers.get("X-Twilio-Signature")
    # The body is checked first: it must be read raw before request.form consumes it.
    if not signature or not _body_matches(url) or not channel.verify(url, request.form, signature):
        log.warning("webhook refused: bad or missing signature on %s", request.path)
        metrics.count_inbound("webhook", "refused")
        abort(403)


#: The most raw body read for a `bodySHA256` check while no MAX_CONTENT_LENGTH is set.
SIGNED_BODY_LIMIT = 64 * 1024


def _body_matches(url: str) -> bool:
    """True if `url` carries no `bodySHA256`, or the raw body hashes to it.

    The body is read only then, and never past the request's limit: Flask's
    MAX_CONTENT_LENGTH or, while none is set, SIGNED_BODY_LIMIT. A stated length beyond
    it answers 413; a chunked body is read no further, and so does not match. The body
    stays cached so request.form can still parse it.
    """
    if not carries_body_hash(url):
        return True
    if request.max_content_length is None:
        request.max_content_length = SIGNED_BODY_LIMIT
    return body_matches(url, request.get_data(cache=True))


def status_channel(form: Mapping[str, str]) -> Channel:
    """The channel whose callback `form` is: a call's carries CallSid, a message's
    MessageSid (SMS and WhatsApp read alike)."""
    return Channel.VOICE if form.get("CallSid") and not form.get("MessageSid") else Channel.SMS


def _twiml() -> Response:
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


@bp.post("/sms")
def inbound_sms() -> Response:
    """A patient's text: store it once (by MessageSid), queue processing, answer 200."""
    require_signature(Channel.SMS)
    form = request.form
    sid = provider_sid(form.get("MessageSid") or form.get("SmsSid"))
    if sid is None:
        # Without its sid a message cannot be stored once and only once.
        abort(400, "MessageSid is missing or is not a message sid")
    sender = form.get("From", "")
    now = get_runtime().clock.now()
    # A bad From or To is stored as it can be; the reply is then flagged for staff.
    stored = store_inbound(
        provider_sid=sid,
        from_number=sender,
        to_number=form.get("To", ""),
        body=form.get("Body", ""),
        messaging_service_sid=provider_sid(form.get("MessagingServiceSid")),
        channel=Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS,
        now=now,
    )
    db.session.close()
    metrics.count_inbound("message", "stored" if stored.created else "duplicate")
    if stored.created:
        # The job of the patient's group routes it, with whatever else the group has
        # waiting (the sweep knows the group is served by its mark in Redis).
        try:
            get_runtime().queue.wake(JobName.ROUTE_REPLIES, reply_group(stored.patient_id))
        except Exception:  # Redis down: the sweep finds the row later, so it is not lost
            log.exception("could not queue the routing of a reply; the sweep will")
    return _twiml()


@bp.post("/status")
def status_callback() -> Response:
    """A delivery status: moves the message forward only; duplicates are no-ops."""
    require_signature(Channel.SMS)
    runtime = get_runtime()
    update = runtime.channel(status_channel(request.form)).parse_status(request.form)
    if update is None:
        abort(400, "MessageSid and MessageStatus (or CallSid and CallStatus) are required")
    moved = record_status(record_id(request.args.get("m")), update, runtime.clock.now())
    metrics.count_inbound("status", update.status if moved else "unchanged")
    return _twiml()
