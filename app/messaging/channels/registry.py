"""Builds the configured channel plug-ins by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.channels import ChannelPlugin

#: Channel names and what carries them: a web link travels by SMS.
CHANNEL_NAMES = ("sms", "whatsapp", "voice", "web")


def twilio_settings(config: Mapping[str, Any]) -> Any:
    """Twilio settings from the app configuration."""
    from app.messaging.channels.twilio_common import TwilioSettings

    return TwilioSettings(
        account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
        previous_auth_token=config.get("TWILIO_AUTH_TOKEN_PREVIOUS"),
        api_base=config.get("TWILIO_API_BASE"),
    )


def build_channels(config: Mapping[str, Any]) -> dict[str, ChannelPlugin]:
    """One instance per channel name in CHANNEL_NAMES; "web" is the SMS instance.

    The Twilio channels share one client (one connection pool). Clients are created
    here, not at import.
    """
    from app.messaging.channels.twilio_common import build_client
    from app.messaging.channels.twilio_sms import TwilioSMSChannel
    from app.messaging.channels.twilio_voice import TwilioVoiceChannel
    from app.messaging.channels.twilio_whatsapp import TwilioWhatsAppChannel

    settings = twilio_settings(config)
    client = build_client(settings)
    sms = TwilioSMSChannel(settings, client=client)
    return {
        "sms": sms,
        "whatsapp": TwilioWhatsAppChannel(settings, client=client),
        "voice": TwilioVoiceChannel(settings, client=client),
        "web": sms,
    }
