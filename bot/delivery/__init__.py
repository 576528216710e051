"""Telegram delivery: updates into the inbox, worked chat by chat; an outbox, one sender."""

import warnings

from telegram.warnings import PTBUserWarning

# The poller (getUpdates) and the sender (outbox rows name Bot API methods and carry their JSON
# parameters) call do_api_request on purpose, for the raw JSON: PTB's hint to use its typed
# methods instead is not for us.
warnings.filterwarnings("ignore", "Please use 'Bot\\.", PTBUserWarning)
