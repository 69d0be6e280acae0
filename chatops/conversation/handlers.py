"""The conversation's commands and queries, and the handler of each."""

from __future__ import annotations

from chatops.conversation import channels, saved
from chatops.conversation.channel_requests import channel_message
from chatops.conversation.commands import (
    ChannelMessage,
    DirectMessage,
    ListReplies,
    PlaceHeld,
    RemoveReply,
    ReplyToCustomer,
    RequestChannelOf,
    SaveReply,
    SendCanned,
    SwitchRequestChannel,
    ThreadMessage,
)
from chatops.conversation.follow_ups import direct_message, place_held
from chatops.conversation.replies import reply_to_customer, send_canned, thread_message

COMMAND_HANDLERS = {
    DirectMessage: direct_message,
    PlaceHeld: place_held,
    ThreadMessage: thread_message,
    SendCanned: send_canned,
    ReplyToCustomer: reply_to_customer,
    ChannelMessage: channel_message,
    SwitchRequestChannel: channels.switch_request_channel,
    SaveReply: saved.save_reply,
    RemoveReply: saved.remove_reply,
}

QUERY_HANDLERS = {RequestChannelOf: channels.request_channel_of, ListReplies: saved.list_replies}
