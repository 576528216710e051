"""The fake Bot API behaves like Telegram's, as seen by a real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
import urllib.request

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup as Keyboard
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler

from tests.fakebotapi import FakeBotApi, tiny_png
from tests.fakebotapi.text import parse_html

TOKEN = "123456:TEST-token_abc"
OTHER_TOKEN = "654321:echo-bot"
CLAIRE = 4242
YES_NO = Keyboard([[Button("Oui", callback_data="yes"), Button("Non", callback_data="no")]])
NOT_MODIFIED = "Message is not modified: specified new message content and reply markup"


@pytest.fixture
async def api():
    async with FakeBotApi(webhook_retry_delays=(0.01, 0.01)) as server:
        yield server
        assert server.internal_errors == []


@pytest.fixture
async def bot(api):
    async with telegram.Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


@pytest.fixture
async def claire(api):
    user = api.user(TOKEN, CLAIRE, "Claire", language_code="fr")
    await user.send("/start")
    return user


@pytest.fixture
def ptb_timedelta(monkeypatch):
    """PTB 22 warns when RetryAfter is built unless it may use timedelta (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def raw(api, http_method, path, **kwargs):
    """One raw HTTP call: (status, JSON body)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(http_method, f"{api.url}{path}", **kwargs) as response,
    ):
        return response.status, await response.json()


async def wait_polling(api, token=TOKEN):
    fake = api.bot(token)
    await fake.changes.wait_for(lambda: fake.polling, 2)


# ------------------------------------------------------------------ transport and identity


async def test_get_me_reports_the_token_owner(api, bot):
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "rebond_test_bot")

    api.bot(OTHER_TOKEN, username="echo_test_bot")
    async with telegram.Bot(OTHER_TOKEN, base_url=api.base_url) as echo:
        assert (echo.bot.id, echo.bot.username) == (654321, "echo_test_bot")


async def test_bad_tokens_and_unknown_methods_answer_like_telegram(api, bot):
    assert await raw(api, "GET", "/botnot-a-token/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert await raw(api, "POST", f"/bot{TOKEN}/flyToTheMoon") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    api.bot(TOKEN).revoked = True
    with pytest.raises(InvalidToken):
        await bot.get_me()


async def test_accepts_json_form_and_query_parameters_with_any_method_case(api, claire):
    status, body = await raw(
        api,
        "POST",
        f"/bot{TOKEN}/SENDMESSAGE",
        json={"chat_id": CLAIRE, "text": "json", "reply_markup": YES_NO.to_dict()},
    )
    assert status == 200 and body["ok"] and body["result"]["reply_markup"] == YES_NO.to_dict()
    status, body = await raw(
        api,
        "POST",
        f"/bot{TOKEN}/sendmessage",
        data={"chat_id": str(CLAIRE), "text": "form", "reply_markup": json.dumps(YES_NO.to_dict())},
    )
    assert status == 200 and body["result"]["text"] == "form"
    status, body = await raw(api, "GET", f"/bot{TOKEN}/getme", params={"unused": "1"})
    assert body["result"]["id"] == 123456
    assert [r.method for r in api.bot(TOKEN).calls()] == ["sendMessage", "sendMessage", "getMe"]
    assert api.bot(TOKEN).calls("sendMessage")[1].params["reply_markup"] == YES_NO.to_dict()


# ------------------------------------------------------------------ getUpdates


async def test_updates_stay_until_confirmed_by_offset(api, bot):
    claire = api.user(TOKEN, CLAIRE, "Claire")
    sent = [await claire.send(text) for text in ("un", "deux", "trois")]
    ids = [u["update_id"] for u in sent]
    assert ids == list(range(ids[0], ids[0] + 3))

    first = await bot.get_updates()
    assert [u.message.text for u in first] == ["un", "deux", "trois"]
    # A bot killed before confirming gets the same updates again after its restart.
    assert [u.update_id for u in await bot.get_updates()] == ids

    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [ids[1]]
    # A negative offset keeps only the last updates and forgets the others.
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [ids[2]]
    assert [u.update_id for u in await bot.get_updates()] == [ids[2]]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert api.bot(TOKEN).pending_update_count == 0


async def test_long_poll_returns_as_soon_as_an_update_arrives(api, bot):
    claire = api.user(TOKEN, CLAIRE, "Claire")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await wait_polling(api)
    await claire.send("coucou")
    updates = await poll
    assert [u.message.text for u in updates] == ["coucou"]
    assert time.monotonic() - started < 2


async def test_a_killed_long_poll_consumes_nothing(api, bot):
    claire = api.user(TOKEN, CLAIRE, "Claire")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await wait_polling(api)
    poll.cancel()  # the client goes away (SIGKILL), the server handler keeps waiting
    with pytest.raises(asyncio.CancelledError):
        await poll
    await claire.send("tu es là ?")
    async with telegram.Bot(TOKEN, base_url=api.base_url) as restarted:
        assert [u.message.text for u in await restarted.get_updates()] == ["tu es là ?"]


async def test_a_second_poller_terminates_the_first_with_409(api, bot):
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await wait_polling(api)
    async with telegram.Bot(TOKEN, base_url=api.base_url) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request; make sure that"):
        await first


async def test_allowed_updates_filter_is_remembered(api, bot, claire):
    await bot.get_updates(offset=-1)
    message = await bot.send_message(CLAIRE, "Choisis", reply_markup=YES_NO)
    await bot.get_updates(offset=10**10, allowed_updates=["callback_query"])
    ignored = await claire.send("ignored")
    pressed = await claire.press(message.message_id, "Oui")
    assert "update_id" not in ignored and "update_id" in pressed
    updates = await bot.get_updates()  # no allowed_updates: the previous filter stays
    assert [u.callback_query.data for u in updates] == ["yes"]


# ------------------------------------------------------------------ messages and buttons


async def test_conversation_with_inline_keyboard(api, bot, claire):
    [start] = await bot.get_updates()
    assert start.message.text == "/start"
    assert start.message.entities[0].type == "bot_command"
    sent = await bot.send_message(CLAIRE, "<b>Prête ?</b>", parse_mode="HTML", reply_markup=YES_NO)
    assert sent.from_user.id == 123456 and sent.chat.type == "private"

    question = await claire.next_message()
    assert (question.message_id, question.text, question.buttons) == (
        sent.message_id,
        "Prête ?",
        [["Oui", "Non"]],
    )
    assert question.entities == [{"type": "bold", "offset": 0, "length": 7}]
    press = await claire.press(question, "Oui")

    [update] = await bot.get_updates(offset=start.update_id + 1)
    query = update.callback_query
    assert update.update_id == press["update_id"] == start.update_id + 1
    assert (query.data, query.from_user.id, query.message.message_id) == ("yes", CLAIRE, 2)
    assert query.id.isdigit() and query.chat_instance == api.bot(TOKEN).chat_instance(CLAIRE)
    assert claire.unanswered_callback_queries != []

    assert await bot.answer_callback_query(query.id, text="Noté")
    answered = await claire.wait_for_answer(press)
    assert answered.text == "Noté" and claire.unanswered_callback_queries == []
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)

    with pytest.raises(AssertionError, match=r"no button 'Peut-être'.*\['Oui', 'Non'\]"):
        await claire.press(question, "Peut-être")


async def test_edits_keep_history_and_refuse_no_op_edits(api, bot, claire):
    sent = await bot.send_message(CLAIRE, "Version 1", reply_markup=YES_NO)
    with pytest.raises(BadRequest, match=NOT_MODIFIED):
        await bot.edit_message_text("Version 1", CLAIRE, sent.message_id, reply_markup=YES_NO)
    with pytest.raises(BadRequest, match=NOT_MODIFIED):
        await bot.edit_message_reply_markup(CLAIRE, sent.message_id, reply_markup=YES_NO)

    # Like Telegram, an edit without reply_markup drops the inline keyboard.
    edited = await bot.edit_message_text("Version 2", CLAIRE, sent.message_id)
    assert edited.edit_date is not None and edited.reply_markup is None
    message = await claire.next_message()
    assert (message.text, message.buttons) == ("Version 2", [])
    assert [v["text"] for v in message.history] == ["Version 1"]

    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", CLAIRE, 999)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", CLAIRE, 1)  # Claire's own /start


async def test_wait_until_sees_edits(api, bot, claire):
    sent = await bot.send_message(CLAIRE, "Je réfléchis…")
    message = await claire.next_message()

    async def edit_later():
        await asyncio.sleep(0.01)
        await bot.edit_message_text("Voilà", CLAIRE, sent.message_id)

    editing = asyncio.create_task(edit_later())
    assert await claire.wait_until(lambda: message.text == "Voilà", timeout=2)
    await editing


async def test_text_limits_count_after_entity_parsing(bot, claire):
    assert (await bot.send_message(CLAIRE, "é" * 4096)).text == "é" * 4096
    html = "<b>" + "a" * 4096 + "</b>"
    assert len((await bot.send_message(CLAIRE, html, parse_mode="HTML")).text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CLAIRE, "a" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CLAIRE, "  \n ")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CLAIRE, "<b></b>", parse_mode="HTML")


async def test_callback_data_is_limited_to_64_bytes(bot, claire):
    fits = Keyboard([[Button("ok", callback_data="é" * 32)]])  # 64 bytes
    assert (await bot.send_message(CLAIRE, "ok", reply_markup=fits)).reply_markup == fits
    too_long = Keyboard([[Button("ko", callback_data="é" * 32 + "x")]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(CLAIRE, "ko", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(CLAIRE, "ko", reply_markup=Keyboard([[Button("rien")]]))


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>gras", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("3 < 4", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_html_parse_errors_are_400(bot, claire, html, error):
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(CLAIRE, html, parse_mode="HTML")
    # PTB capitalizes descriptions ("Bad Request: x" -> "X"), hence lower().
    assert caught.value.message.startswith("Can't parse entities: ")
    assert error.lower() in caught.value.message.lower()


def test_html_entities_use_utf16_offsets():
    text, entities = parse_html(
        '😀 <b>gras <i>et</i></b> <a href="https://ex.org">lien</a> &lt;3 '
        '<pre><code class="language-python">x = 1</code></pre><tg-spoiler>s</tg-spoiler>'
    )
    assert text == "😀 gras et lien <3 x = 1s"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 7},
        {"type": "italic", "offset": 8, "length": 2},
        {"type": "text_link", "offset": 11, "length": 4, "url": "https://ex.org"},
        {"type": "pre", "offset": 19, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 24, "length": 1},
    ]
    assert parse_html("R&D", strict_ampersand=False) == ("R&D", [])


# ------------------------------------------------------------------ failures


async def test_injected_429_surfaces_as_retry_after(api, bot, claire, ptb_timedelta):
    fake = api.bot(TOKEN)
    fake.fail_next(429, retry_after=3, method="sendMessage")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CLAIRE, "vite")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert (await bot.send_message(CLAIRE, "encore")).text == "encore"
    assert fake.flood_count == 1
    assert fake.calls("sendMessage")[0].response["parameters"] == {"retry_after": 3}


async def test_rate_limit_mimics_telegram_flood_control(api, bot, claire, ptb_timedelta):
    fake = api.bot(TOKEN)
    fake.enable_rate_limit(per_second=30, per_chat_per_second=1, per_chat_burst=2)
    await bot.send_message(CLAIRE, "1")
    await bot.send_message(CLAIRE, "2")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CLAIRE, "3")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.flood_count == 1 and [m.text for m in claire.messages] == ["1", "2"]


async def test_blocked_user_means_403_until_she_writes_again(api, bot, claire):
    claire.block()
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(CLAIRE, "Tu me manques")
    await claire.send("/start")
    updates = await bot.get_updates()
    kinds = [
        u.my_chat_member.new_chat_member.status if u.my_chat_member else "message" for u in updates
    ]
    assert kinds == ["message", "kicked", "member", "message"]
    assert (await bot.send_message(CLAIRE, "Re-bonjour")).text == "Re-bonjour"


async def test_unknown_and_never_started_chats(api, bot):
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "?")
    api.user(TOKEN, 77, "Paul")  # exists, but never wrote to the bot
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(77, "Salut")


async def test_injected_403_500_and_delay(api, bot, claire):
    fake = api.bot(TOKEN)
    fake.fail_next(403)
    with pytest.raises(Forbidden):
        await bot.send_message(CLAIRE, "x")
    fake.fail_next(500, method="sendChatAction")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_chat_action(CLAIRE, "typing")
    fake.delay_next(0.2, method="sendmessage")
    started = time.monotonic()
    await bot.send_message(CLAIRE, "lent")
    assert time.monotonic() - started >= 0.19
    with pytest.raises(BadRequest, match="Wrong parameter action in request"):
        await bot.send_chat_action(CLAIRE, "dancing")
    assert await bot.send_chat_action(CLAIRE, "typing")
    assert claire.chat_actions == ["typing"]


# ------------------------------------------------------------------ webhooks


@pytest.fixture
async def receiver():
    """A tiny webhook endpoint answering 500 once, then 200."""
    seen = []

    async def hook(request):
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=500 if len(seen) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", seen
    await runner.cleanup()


async def test_webhook_delivery_with_secret_and_retry(api, bot, receiver):
    url, seen = receiver
    fake = api.bot(TOKEN)
    with pytest.raises(BadRequest, match="Secret token contains unallowed characters"):
        await bot.set_webhook(url, secret_token="pas secret!")
    assert await bot.set_webhook(url, secret_token="s3cr3t_-")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()

    update = await api.user(TOKEN, CLAIRE, "Claire").send("/start")
    await fake.changes.wait_for(lambda: any(d.ok for d in fake.deliveries), 2)
    assert [(d.attempt, d.status) for d in fake.deliveries] == [(1, 500), (2, 200)]
    assert seen == [("s3cr3t_-", update), ("s3cr3t_-", update)]
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (url, 0)
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"

    fake.webhook_secret_override = "wrong"
    await api.user(TOKEN, CLAIRE).send("encore")
    await fake.changes.wait_for(lambda: len(seen) == 3, 2)
    assert seen[-1][0] == "wrong"

    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


# ------------------------------------------------------------------ files


async def test_send_photo_and_document_as_multipart(api, bot, claire):
    png = tiny_png(3, 2)
    sent = await bot.send_photo(CLAIRE, photo=png, caption="Ton <b>plan</b>", parse_mode="HTML")
    assert (sent.photo[-1].width, sent.photo[-1].height, sent.caption) == (3, 2, "Ton plan")
    photo = await claire.next_message()
    assert photo.file.data == png and photo.media["photo"][0]["file_size"] == len(png)

    doc = await bot.send_document(CLAIRE, document=b"Semaine 1", filename="plan.txt")
    assert doc.document.file_name == "plan.txt"
    file = await bot.get_file(doc.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"Semaine 1"

    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(CLAIRE, photo=b"not an image")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(CLAIRE, document=b"x", filename="x.txt", caption="c" * 1025)
    assert (await bot.send_photo(CLAIRE, photo=sent.photo[-1].file_id)).photo


async def test_user_media_reaches_ptb_as_proper_updates(api, bot, claire):
    await claire.send_photo(caption="moi")
    await claire.send_sticker("🙂")
    await claire.send_voice(duration=2)
    await claire.send_document(b"cv", "cv.pdf", "application/pdf")
    await claire.edit(1, "/start again")
    updates = await bot.get_updates()
    photo, sticker, voice, document, edited = (u for u in updates[1:])
    assert photo.message.caption == "moi" and photo.message.photo[0].width == 2
    assert sticker.message.sticker.emoji == "🙂"
    assert voice.message.voice.mime_type == "audio/ogg"
    assert document.message.document.file_name == "cv.pdf"
    assert edited.edited_message.text == "/start again"
    voice_file = await bot.get_file(voice.message.voice.file_id)
    assert bytes(await voice_file.download_as_bytearray()).startswith(b"OggS")


# ------------------------------------------------------------------ commands


async def test_commands_are_stored_per_scope_and_language(api, bot):
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "Commencer")], language_code="fr")
    await bot.set_my_commands(
        [BotCommand("bilan", "Mon bilan")], scope=BotCommandScopeAllPrivateChats()
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands(language_code="fr")] == ["Commencer"]
    assert await bot.get_my_commands(language_code="de") == ()
    fake = api.bot(TOKEN)
    assert fake.get_commands("all_private_chats") == [
        {"command": "bilan", "description": "Mon bilan"}
    ]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Majuscule")])


# ------------------------------------------------------------------ user side


async def test_next_message_timeout_explains_what_happened(api, bot, claire):
    await bot.send_message(CLAIRE, "Bonjour")
    assert (await claire.next_message()).text == "Bonjour"
    with pytest.raises(BadRequest):
        await bot.send_message(CLAIRE, "<oops>", parse_mode="HTML")
    with pytest.raises(TimeoutError) as caught:
        await claire.next_message(timeout=0.05)
    report = str(caught.value)
    assert "'Bonjour'" in report and "Unsupported start tag" in report
    await claire.expect_silence(within=0.01)


async def test_clock_is_injectable():
    async with FakeBotApi(now=lambda: 1_700_000_000.5) as api:
        update = await api.user(TOKEN, CLAIRE).send("hello")
        assert update["message"]["date"] == 1_700_000_000


async def test_real_ptb_application_talks_to_the_fake(api, claire):
    async def start(update, context):
        await update.message.reply_text("Prête ?", reply_markup=YES_NO)

    async def answer(update, context):
        await update.callback_query.answer("OK")
        await update.callback_query.edit_message_text(f"Choix : {update.callback_query.data}")

    app = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(answer))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        question = await claire.next_message()
        await claire.press(question, "Non")
        await claire.wait_until(lambda: question.text == "Choix : no")
        await app.updater.stop()
        await app.stop()
    assert claire.unanswered_callback_queries == []
    assert api.bot(TOKEN).pending_update_count == 0  # PTB confirmed everything on stop


def test_threaded_server_for_synchronous_code():
    def call(api, method, **params):
        request = urllib.request.Request(
            f"{api.base_url}{TOKEN}/{method}",
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)["result"]

    with FakeBotApi.start_in_thread() as api:
        claire = api.user(TOKEN, CLAIRE, "Claire")
        sent = claire.send("/start")
        [update] = call(api, "getUpdates", timeout=1)
        assert Update.de_json(update, None).message.text == "/start" == sent["message"]["text"]
        call(api, "sendMessage", chat_id=CLAIRE, text="Bienvenue", reply_markup=YES_NO.to_dict())
        assert claire.next_message(timeout=2).text == "Bienvenue"
        press = claire.press("Oui")
        assert press["callback_query"]["data"] == "yes"
        assert api.bot(TOKEN).count("sendMessage") == 1


async def test_a_mini_app_menu_button_needs_https_as_telegram_requires(api, bot, claire):
    from telegram import MenuButtonWebApp, WebAppInfo
    from telegram.error import BadRequest

    with pytest.raises(BadRequest, match=r"(?i)button_url_invalid"):
        await bot.set_chat_menu_button(
            CLAIRE, MenuButtonWebApp("Rebond", WebAppInfo("http://127.0.0.1/"))
        )
    assert (await bot.get_chat_menu_button(CLAIRE)).type == "commands"
    await bot.set_chat_menu_button(
        CLAIRE, MenuButtonWebApp("Rebond", WebAppInfo("https://rebond.example/"))
    )
    button = await bot.get_chat_menu_button(CLAIRE)
    assert isinstance(button, MenuButtonWebApp) and button.web_app.url == "https://rebond.example/"
    await bot.set_chat_menu_button(CLAIRE)  # no button: Telegram's default for that chat again
    assert (await bot.get_chat_menu_button(CLAIRE)).type == "commands"
