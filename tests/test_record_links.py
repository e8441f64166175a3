"""Record links: a reminder's /r/TOKEN opens a phone form that records for that unit only."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from scheduler.core.links import RECORD, Claims, Refusal, TokenRefused, make_token, read_token
from scheduler.core.rules import RuleBook
from scheduler.store import links, reports
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event, Person
from scheduler.store.models_attachments import Attachment
from scheduler.store.models_links import RecordLink
from tests import filesamples as sample
from tests.conftest import TEST_SECRET_KEY
from tests.phoneworld import app_at, mail_to, phone_settings, record_link, send_reminders
from tests.remindworld import DAY, url_of
from tests.webfixtures import add_users, log_in

pytest_plugins = ["tests.webfixtures"]
KEY = TEST_SECRET_KEY.encode()
LATER = DAY + timedelta(hours=2)
HEARING = {"rule": "township-hearing", "period": "2026-B5"}


@pytest.fixture
def world(engine: Engine, book: RuleBook, tmp_path: Path) -> tuple[Engine, Path]:
    settings = phone_settings(url_of(engine), tmp_path / "mail", "http://testserver")
    send_reminders(engine, book, settings)
    return engine, tmp_path / "mail"


def client(
    engine: Engine,
    book: RuleBook,
    folder: Path,
    at: datetime = LATER,
    base: str = "http://testserver",  # plain http: an intranet; https for a login cookie
    **reminders: Any,
) -> TestClient:
    settings = phone_settings(url_of(engine), folder, "http://testserver", **reminders)
    return TestClient(app_at(engine, book, settings, at), base_url=base)


def status_of(engine: Engine, book: RuleBook, unit: str, rule: str) -> str:
    with transaction(engine) as session:
        selection = reports.Selection(LATER.date(), LATER.date(), LATER.date(), unit, rule=rule)
        found = reports.status_rows(session, book, selection)
    return str(found[0].obligation.status)


def test_a_token_names_its_claims_and_refuses_a_changed_character() -> None:
    claims = Claims(RECORD, 7, 9, (DAY + timedelta(days=14)).astimezone())
    token = make_token(KEY, claims)
    read = read_token(KEY, token, RECORD, DAY)
    assert (read.first, read.second) == (7, 9)
    assert make_token(KEY, claims) != token  # a fresh nonce each time
    changed = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    for bad, kind, reason in [
        (changed, RECORD, Refusal.TAMPERED),
        (token, "s", Refusal.TAMPERED),
        ("nonsense", RECORD, Refusal.TAMPERED),
    ]:
        with pytest.raises(TokenRefused) as refused:
            read_token(KEY, bad, kind, DAY)
        assert refused.value.reason is reason
    with pytest.raises(TokenRefused) as late:
        read_token(KEY, token, RECORD, DAY + timedelta(days=14))
    assert late.value.reason is Refusal.EXPIRED
    with pytest.raises(TokenRefused):
        read_token(b"another key of the same length!!", token, RECORD, DAY)


def test_without_the_secret_key_links_cannot_be_made() -> None:
    with pytest.raises(links.SecretMissing, match="HUIQI_SECRET_KEY is not set"):
        links.secret_key({})
    assert links.secret_key({"HUIQI_SECRET_KEY": TEST_SECRET_KEY}) == KEY


def test_the_reminder_link_records_a_meeting_and_the_obligation_turns_met(
    world: tuple[Engine, Path], book: RuleBook
) -> None:
    engine, folder = world
    message = mail_to(folder, "chen@example.org")
    path = record_link(message)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"http://testserver{path}" in html
    assert status_of(engine, book, "101", "township-hearing") == "open"
    with client(engine, book, folder) as phone:
        first = phone.get(path)
        assert first.status_code == 200
        assert first.headers["referrer-policy"] == "no-referrer"
        assert "乡镇党委听取妇联工作汇报" in first.text and "乡镇党委调研妇联工作进展" in first.text
        form = phone.get(f"{path}/record", params=HEARING)
        assert 'value="hearing" checked' in form.text
        assert 'type="date" id="date" name="date" value="2026-10-16"' in form.text
        assert "陈书记（党委(党支部)书记）" in form.text
        answer = phone.post(
            f"{path}/record",
            data={**HEARING, "kinds": ["hearing"], "date": "2026-10-16", "title": "听取妇联汇报",
                  "attended": ["party_secretary", "fulian_chair"], "unit": "102"},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303
        done = phone.get(answer.headers["location"])
        assert "按时完成" in done.text
    assert status_of(engine, book, "101", "township-hearing") == "met"
    assert status_of(engine, book, "102", "township-hearing") == "open"  # "unit" is ignored
    with transaction(engine) as session:
        actors = session.scalars(
            select(ChangeRecord.actor).where(ChangeRecord.action == "event.add")
        ).all()
    assert actors == ["经提醒链接由陈书记录入"]


def test_a_date_after_today_is_refused_and_nothing_is_recorded(
    world: tuple[Engine, Path], book: RuleBook
) -> None:
    engine, folder = world
    path = record_link(mail_to(folder, "chen@example.org"))
    with client(engine, book, folder) as phone:
        answer = phone.post(
            f"{path}/record",
            data={**HEARING, "kinds": ["hearing"], "date": "2026-10-17", "title": "听取汇报"},
        )
    assert answer.status_code == 422
    assert "日期不能晚于今天" in answer.text
    with transaction(engine) as session:
        assert session.scalars(select(Event)).all() == []


def test_a_file_that_is_not_what_it_says_is_refused_and_nothing_is_recorded(
    world: tuple[Engine, Path], book: RuleBook
) -> None:
    engine, folder = world
    path = record_link(mail_to(folder, "chen@example.org"))
    posted = {**HEARING, "kinds": ["hearing"], "date": "2026-10-16", "title": "听取汇报",
              "attachment_type": "minutes"}  # fmt: skip
    disguised = ("会议记录.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    with client(engine, book, folder) as phone:
        answer = phone.post(f"{path}/record", data=posted, files={"file": disguised})
        assert answer.status_code == 422 and 'value="听取汇报"' in answer.text  # kept
        assert "这个文件不能保存" in answer.text  # said in Chinese
        with transaction(engine) as session:
            assert session.scalars(select(Event)).all() == []
        photo = ("会议记录.png", sample.png(), "image/png")
        kept = phone.post(f"{path}/record", data=posted, files={"file": photo},
                          follow_redirects=False)  # fmt: skip
        assert kept.status_code == 303
    with transaction(engine) as session:
        (attached,) = session.scalars(select(Attachment)).all()
        assert (attached.kind, attached.media_type) == ("minutes", "image/png")
        actions = session.scalars(select(ChangeRecord.actor).where(
            ChangeRecord.action.in_(["event.add", "attachment.add"]))).all()  # fmt: skip
    assert set(actions) == {"经提醒链接由陈书记录入"} and len(actions) == 2


def test_a_link_with_another_unit_written_in_is_refused(
    world: tuple[Engine, Path], book: RuleBook
) -> None:
    engine, folder = world
    path = record_link(mail_to(folder, "chen@example.org"))
    body, _, mac = path.removeprefix("/r/").partition(".")
    text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    parts = text.split("|")
    with transaction(engine) as session:
        other = session.scalar(select(Person.id).where(Person.email == "zhou@example.org"))
    parts[2] = str(int(parts[2]) + 1)  # the next unit
    forged = base64.urlsafe_b64encode("|".join(parts).encode()).rstrip(b"=").decode()
    with client(engine, book, folder) as phone:
        answer = phone.post(
            f"/r/{forged}.{mac}/record",
            data={**HEARING, "kinds": ["hearing"], "date": "2026-10-16", "title": "会"},
        )
        assert answer.status_code == 403
        assert "链接不完整或已被改动" in answer.text
        forged_token = make_token(
            b"a guessed key, not the server's", Claims(RECORD, 1, other or 0, LATER)
        )
        assert phone.get(f"/r/{forged_token}").status_code == 403
    with transaction(engine) as session:
        assert session.scalars(select(Event)).all() == []


def test_an_expired_link_says_so_in_chinese_and_english(
    world: tuple[Engine, Path], book: RuleBook
) -> None:
    engine, folder = world
    path = record_link(mail_to(folder, "chen@example.org"))
    with client(engine, book, folder, at=DAY + timedelta(days=14)) as phone:
        answer = phone.get(path)
        assert answer.status_code == 410
        assert "链接已过期" in answer.text
        phone.cookies.set("huiqi_lang", "en")
        assert "The link has expired" in phone.get(path).text


def test_a_revoked_link_is_refused_and_revoking_is_in_the_trail(
    world: tuple[Engine, Path], book: RuleBook, cheap_hashes: None
) -> None:
    engine, folder = world
    path = record_link(mail_to(folder, "chen@example.org"))
    add_users(engine)
    with transaction(engine) as session:
        chen = session.scalar(select(Person.id).where(Person.email == "chen@example.org"))
    with client(engine, book, folder, base="https://testserver") as clerk_of_102:
        csrf = log_in(clerk_of_102, "other")
        refused = clerk_of_102.post(f"/people/{chen}/revoke-links", data={"csrf": csrf})
        assert refused.status_code == 403
    with client(engine, book, folder) as phone:
        assert phone.get(path).status_code == 200
    with client(engine, book, folder, base="https://testserver") as clerk_of_101:
        csrf = log_in(clerk_of_101, "clerk")
        done = clerk_of_101.post(f"/people/{chen}/revoke-links", data={"csrf": csrf})
        assert done.status_code == 200 and "已撤销陈书记的 1 个提醒登记链接" in done.text
    with client(engine, book, folder) as phone:
        answer = phone.get(path)
        assert answer.status_code == 410 and "链接已被撤销" in answer.text
    with transaction(engine) as session:
        entry = session.scalar(select(ChangeRecord).where(ChangeRecord.action == "link.revoke"))
        assert entry is not None and entry.actor == "clerk"
        assert session.scalar(select(RecordLink.revoked_by).where(RecordLink.person_id == chen))


def test_a_link_used_too_often_within_an_hour_waits(
    world: tuple[Engine, Path], book: RuleBook
) -> None:
    engine, folder = world
    path = record_link(mail_to(folder, "chen@example.org"))
    with client(engine, book, folder, link_uses_per_hour=3) as phone:
        assert [phone.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    with client(engine, book, folder, at=LATER + timedelta(hours=1), link_uses_per_hour=3) as phone:
        assert phone.get(path).status_code == 200


def test_the_group_chat_message_carries_the_responsible_persons_link(
    engine: Engine, book: RuleBook, tmp_path: Path
) -> None:
    from scheduler.reminders.digest import chat_of
    from scheduler.reminders.dispatch import claim
    from scheduler.reminders.record_links import record_urls
    from tests.remindworld import load, run_sweep

    settings = phone_settings(url_of(engine), tmp_path / "mail", "http://testserver")
    load(engine, book)
    run_sweep(engine, book, settings)
    with transaction(engine) as session:
        claimed = claim(session, DAY, "t", settings)
        digest = claimed[0].digest
        urls = record_urls(session, digest, None, book, settings, KEY, DAY)
        _, text = chat_of(digest, "东山镇", book, settings, urls)
        holder = links.check(session, KEY, urls["101"].split("/r/")[1], DAY, 10)
    assert f"[手机登记]({urls['101']})" in text
    assert holder.person_name == "陈书记"  # the party secretary is responsible
