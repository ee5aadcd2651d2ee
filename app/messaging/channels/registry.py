"""Builds the configured channel plug-ins by name."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.core.channels import Channel, ChannelPlugin, ProviderTiming
from app.messaging.channels.twilio_common import TwilioSettings, build_client
from app.messaging.channels.twilio_sms import TwilioSMSChannel
from app.messaging.channels.twilio_voice import TwilioVoiceChannel
from app.messaging.channels.twilio_whatsapp import TwilioWhatsAppChannel


def twilio_settings(config: Mapping[str, Any]) -> TwilioSettings:
    """Twilio settings from the app configuration."""
    return TwilioSettings(
        account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
        previous_auth_token=config.get("TWILIO_AUTH_TOKEN_PREVIOUS"),
        api_base=config.get("TWILIO_API_BASE"),
        timing=_timing(config),
    )


def _timing(config: Mapping[str, Any]) -> ProviderTiming:
    default = ProviderTiming()
    lag = config.get("RECONCILE_LIST_LAG_SECONDS")
    wait = config.get("STATUS_POLL_SECONDS")
    return ProviderTiming(
        list_lag=default.list_lag if lag is None else timedelta(seconds=float(lag)),
        callback_wait=default.callback_wait if wait is None else timedelta(seconds=float(wait)),
    )


def build_channels(config: Mapping[str, Any]) -> dict[str, ChannelPlugin]:
    """One instance per `Channel`; the web channel is the SMS instance.

    The Twilio channels share one client (one connection pool). Clients are created
    here, not at import.
    """
    settings = twilio_settings(config)
    client = build_client(settings)
    sms = TwilioSMSChannel(settings, client=client)
    return {
        Channel.SMS: sms,
        Channel.WHATSAPP: TwilioWhatsAppChannel(settings, client=client),
        Channel.VOICE: TwilioVoiceChannel(settings, client=client),
        Channel.WEB: sms,  # a web link travels by SMS
    }
