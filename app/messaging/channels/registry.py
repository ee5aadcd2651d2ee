"""Builds the configured channel plug-ins by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.channels import Channel, ChannelPlugin
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
