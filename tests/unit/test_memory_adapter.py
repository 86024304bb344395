"""The in-memory adapter: the reference behaviour of every port."""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from sessionkit import (
    Authorization,
    BillingCode,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    Payer,
    PracticeSetup,
)
from sessionkit.adapters.memory import InMemoryUnitOfWork, MemoryStore
from sessionkit.errors import ConcurrentUpdate, NotFound
from sessionkit.ports import (
    AlreadyExists,
    AuthorizationRepository,
    BillingCodeRepository,
    ClientRepository,
    CoverageRepository,
    DiagnosisCodeRepository,
    PayerRepository,
    PracticeRepository,
    SessionRepository,
    TransactionError,
)
from sessionkit.routing import Destination, sessions_for

DAY = date(2026, 3, 2)
PRACTICE = PracticeSetup(
    name="Calm Practice", npi="1234567893", tax_id="123456789", time_zone="America/New_York"
)


def _session(sid: str, client_id: str = "c1", day: date = DAY, **kw: object) -> ClientSession:
    return ClientSession(
        id=sid,
        client_id=client_id,
        date_of_service=day,
        billing_code=kw.pop("billing_code", "90834"),  # type: ignore[arg-type]
        charge=kw.pop("charge", "140.00"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_repositories_satisfy_the_protocols() -> None:
    """Each in-memory repository is an instance of its runtime-checkable protocol."""
    with InMemoryUnitOfWork() as uow:
        assert isinstance(uow.clients, ClientRepository)
        assert isinstance(uow.payers, PayerRepository)
        assert isinstance(uow.coverages, CoverageRepository)
        assert isinstance(uow.billing_codes, BillingCodeRepository)
        assert isinstance(uow.diagnoses, DiagnosisCodeRepository)
        assert isinstance(uow.authorizations, AuthorizationRepository)
        assert isinstance(uow.sessions, SessionRepository)
        assert isinstance(uow.practice, PracticeRepository)


def test_save_bumps_version_and_refuses_stale_versions() -> None:
    """A new session needs version 0; each save returns version + 1; a stale copy raises."""
    with InMemoryUnitOfWork() as uow:
        first = uow.sessions.save(_session("s1"))
        assert first.version == 1
        second = uow.sessions.save(attrs.evolve(first, comments="x"))
        assert second.version == 2
        with pytest.raises(ConcurrentUpdate) as info:
            uow.sessions.save(first)
        assert info.value.code == "session.version"
        with pytest.raises(ConcurrentUpdate):
            uow.sessions.save(_session("s9", version=3))
        assert uow.sessions.get("s1").comments == "x"


def test_commit_applies_and_exit_without_commit_rolls_back() -> None:
    """Writes reach the store only on commit; leaving the block discards the rest."""
    store = MemoryStore()
    uow = InMemoryUnitOfWork(store)
    with uow:
        uow.sessions.save(_session("s1"))
        uow.commit()
        uow.sessions.save(_session("s2"))
    assert sorted(store.sessions) == ["s1"]
    with uow:
        assert uow.sessions.count() == 1
        uow.sessions.save(_session("s3"))
        uow.rollback()
        assert uow.sessions.find("s3") is None


def test_exception_rolls_back() -> None:
    """An exception in the block leaves the store as it was."""
    uow = InMemoryUnitOfWork()

    def fail() -> None:
        with uow:
            uow.clients.put(Client(id="c1", first_name="A", last_name="B"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    with uow:
        assert uow.clients.find("c1") is None


def test_snapshot_isolation_and_concurrent_update() -> None:
    """Two units of work on one store: the second commit of the same session conflicts and applies nothing."""
    store = MemoryStore()
    InMemoryUnitOfWork(store).seed(sessions=[_session("s1")])
    a, b = InMemoryUnitOfWork(store), InMemoryUnitOfWork(store)
    with a, b:
        sa = a.sessions.get("s1")
        sb = b.sessions.get("s1")
        a.sessions.save(attrs.evolve(sa, comments="a"))
        a.commit()
        assert b.sessions.get("s1").comments == ""  # b still sees its snapshot
        b.clients.put(Client(id="c9", first_name="A", last_name="B"))
        b.sessions.save(attrs.evolve(sb, comments="b"))
        with pytest.raises(ConcurrentUpdate):
            b.commit()
    assert store.sessions["s1"].comments == "a"
    assert "c9" not in store.clients


def test_appointment_keys_are_unique() -> None:
    """A second session with the same appointment key is refused, in one unit and across units."""
    store = MemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        uow.sessions.save(_session("s1", appointment_key="uid-1"))
        with pytest.raises(AlreadyExists) as info:
            uow.sessions.save(_session("s2", appointment_key="uid-1"))
        assert info.value.field == "appointment_key"
        assert uow.sessions.by_appointment_key("uid-1").id == "s1"  # type: ignore[union-attr]
        assert uow.sessions.by_appointment_key("nope") is None
        a, b = InMemoryUnitOfWork(store), InMemoryUnitOfWork(store)
        with a, b:
            a.sessions.save(_session("s3", appointment_key="uid-2"))
            b.sessions.save(_session("s4", appointment_key="uid-2"))
            a.commit()
            with pytest.raises(AlreadyExists):
                b.commit()
    assert [s.id for s in store.sessions.values()] == ["s3"]


def test_last_saved_follows_save_order_not_date() -> None:
    """The last saved session is the one saved last, even with an earlier date, across commits."""
    uow = InMemoryUnitOfWork()
    with uow:
        uow.sessions.save(_session("late", day=DAY + timedelta(days=5)))
        uow.commit()
        uow.sessions.save(_session("early", day=DAY))
        assert uow.sessions.last_saved_for("c1").id == "early"  # type: ignore[union-attr]
        uow.commit()
        assert uow.sessions.last_saved_for("c1").id == "early"  # type: ignore[union-attr]
        late = uow.sessions.get("late")
        uow.sessions.save(late)
        uow.commit()
        assert uow.sessions.last_saved_for("c1").id == "late"  # type: ignore[union-attr]
        uow.sessions.delete("late")
        assert uow.sessions.last_saved_for("c1").id == "early"  # type: ignore[union-attr]
        assert uow.sessions.last_saved_for("c2") is None


def test_session_queries_order_by_date_then_id() -> None:
    """list, by_client and between order by date of service then id; between is inclusive."""
    uow = InMemoryUnitOfWork().seed(
        sessions=[
            _session("b", day=DAY),
            _session("a", day=DAY),
            _session("z", day=DAY - timedelta(days=1)),
            _session("c", client_id="c2", day=DAY + timedelta(days=1)),
        ]
    )
    with uow:
        assert [s.id for s in uow.sessions.list()] == ["z", "a", "b", "c"]
        assert [s.id for s in uow.sessions.by_client("c1")] == ["z", "a", "b"]
        assert [s.id for s in uow.sessions.between(DAY, DAY + timedelta(days=1))] == ["a", "b", "c"]


def test_sessions_for_uses_the_coverages_of_the_unit() -> None:
    """Sessions of covered clients go to insurance; bill-to-client and uncovered ones to the invoice."""
    cov = Coverage(id="k1", client_id="c1", payer_id="p1", member_id="MM", effective=DAY, copay="20")
    uow = InMemoryUnitOfWork().seed(
        coverages=[cov],
        sessions=[
            _session("paid", paid_at_session="20"),
            _session("owes"),
            _session("direct", bill_to="client"),
            _session("uncovered", client_id="c2"),
        ],
    )
    with uow:
        assert [s.id for s in sessions_for(uow, Destination.INSURANCE_CLAIM)] == ["owes", "paid"]
        assert [s.id for s in sessions_for(uow, Destination.CLIENT_INVOICE)] == [
            "direct",
            "owes",
            "uncovered",
        ]
        uow.coverages.delete("k1")
        assert sessions_for(uow, Destination.INSURANCE_CLAIM) == []


def test_by_destination_is_deprecated_and_answers_as_sessions_for() -> None:
    """The old repository query still answers for one release, with a DeprecationWarning."""
    cov = Coverage(id="k1", client_id="c1", payer_id="p1", member_id="MM", effective=DAY, copay="20")
    uow = InMemoryUnitOfWork().seed(
        coverages=[cov], sessions=[_session("owes"), _session("uncovered", client_id="c2")]
    )
    with uow:
        for destination in Destination:
            with pytest.warns(DeprecationWarning, match="sessions_for"):
                old = uow.sessions.by_destination(destination)
            assert old == sessions_for(uow, destination)
        assert [s.id for s in sessions_for(uow, Destination.CLIENT_INVOICE)] == ["owes", "uncovered"]


def test_save_many_is_all_or_nothing() -> None:
    """When one session of a batch fails, none of the batch is saved."""
    with InMemoryUnitOfWork() as uow:
        uow.sessions.save(_session("s1"))
        with pytest.raises(ConcurrentUpdate):
            uow.sessions.save_many([_session("s2"), _session("s1")])
        assert uow.sessions.count() == 1
        saved = uow.sessions.save_many([_session("s2"), _session("s3")])
        assert [s.version for s in saved] == [1, 1]
        assert uow.sessions.count() == 3


def test_delete_and_not_found() -> None:
    """get and delete of a missing record raise NotFound with a stable code."""
    with InMemoryUnitOfWork() as uow:
        with pytest.raises(NotFound) as info:
            uow.sessions.get("nope")
        assert info.value.code == "session.not_found"
        with pytest.raises(NotFound):
            uow.sessions.delete("nope")
        with pytest.raises(NotFound) as info:
            uow.clients.get("nope")
        assert info.value.code == "client.not_found"
        with pytest.raises(NotFound):
            uow.coverages.delete("nope")
        uow.sessions.save(_session("s1"))
        uow.sessions.delete("s1")
        assert uow.sessions.count() == 0


def test_add_refuses_taken_keys_and_put_replaces() -> None:
    """add raises AlreadyExists for a taken id; put of the stored version replaces, of another raises."""
    with InMemoryUnitOfWork() as uow:
        uow.payers.add(Payer(id="p1", name="Acme"))
        with pytest.raises(AlreadyExists) as info:
            uow.payers.add(Payer(id="p1", name="Other"))
        assert info.value.code == "payer.exists"
        with pytest.raises(ConcurrentUpdate) as stale:
            uow.payers.put(Payer(id="p1", name="Other"))
        assert (stale.value.code, stale.value.field) == ("payer.version", "version")
        uow.payers.put(Payer(id="p1", name="Other", version=1))
        assert [(p.name, p.version) for p in uow.payers.list()] == [("Other", 2)]


def test_code_setups_are_keyed_by_normal_form() -> None:
    """Billing and diagnosis codes are found in any spelling; malformed codes are not found."""
    with InMemoryUnitOfWork() as uow:
        uow.billing_codes.put(BillingCode(code="90837", default_charge="180"))
        uow.billing_codes.put(BillingCode(code="90834", default_charge="140"))
        uow.diagnoses.put(DiagnosisCode(code="F41.1"))
        assert uow.billing_codes.get(" 90834 ").default_charge.amount == 140
        assert uow.billing_codes.find("junk") is None
        assert [b.code for b in uow.billing_codes.list()] == ["90834", "90837"]
        assert uow.diagnoses.get("f411").code == "F41.1"
        assert uow.diagnoses.find("??") is None
        with pytest.raises(NotFound):
            uow.diagnoses.get("F32.A")


def test_coverage_and_authorization_queries() -> None:
    """for_client/active_on order coverages by rank and authorizations by start date."""
    cov_s = Coverage(id="a", client_id="c1", payer_id="p", member_id="MM", effective=DAY, rank="S")
    cov_p = Coverage(id="b", client_id="c1", payer_id="p", member_id="MM", effective=DAY + timedelta(days=9))
    auth1 = Authorization(
        id="x", client_id="c1", payer_id="p", number="A1", start=DAY, end=DAY, sessions_authorized=2
    )
    auth0 = attrs.evolve(auth1, id="y", start=DAY - timedelta(days=9))
    uow = InMemoryUnitOfWork().seed(coverages=[cov_s, cov_p], authorizations=[auth1, auth0])
    with uow:
        assert [c.id for c in uow.coverages.for_client("c1")] == ["b", "a"]
        assert [c.id for c in uow.coverages.active_on("c1", DAY)] == ["a"]
        assert [a.id for a in uow.authorizations.for_client("c1")] == ["y", "x"]
        assert [a.id for a in uow.authorizations.active_on("c1", DAY + timedelta(days=1))] == []
        assert [a.id for a in uow.authorizations.list()] == ["x", "y"]


def test_practice_setup_get_put() -> None:
    """The practice is NotFound until put, and put is committed like any write."""
    uow = InMemoryUnitOfWork()
    with uow:
        assert uow.practice.find() is None
        with pytest.raises(NotFound):
            uow.practice.get()
        uow.practice.put(PRACTICE)
        uow.commit()
    with uow:
        assert uow.practice.get() == PRACTICE
        assert uow.practice.get().version == 1


def _is_active(uow: InMemoryUnitOfWork) -> bool:
    return uow.active


def test_unit_of_work_used_outside_or_nested_raises() -> None:
    """Repositories need an active unit; entering it twice raises."""
    uow = InMemoryUnitOfWork()
    with pytest.raises(TransactionError) as info:
        uow.sessions.count()
    assert info.value.code == "uow.inactive"
    with uow:
        assert _is_active(uow)
        with pytest.raises(TransactionError) as info, uow:
            pass
        assert info.value.code == "uow.nested"
    assert not _is_active(uow)
    with pytest.raises(TransactionError):
        uow.commit()


ids = st.sampled_from(["s1", "s2", "s3", "s4"])
days = st.integers(0, 5).map(lambda n: DAY + timedelta(days=n))


class SessionStoreMachine(RuleBasedStateMachine):
    """The session repository against a dict model, with commits and rollbacks."""

    def __init__(self) -> None:
        super().__init__()
        self.uow = InMemoryUnitOfWork()
        self.uow.__enter__()
        self.committed: dict[str, ClientSession] = {}
        self.model: dict[str, ClientSession] = {}
        self.order: list[str] = []  # save order, oldest first (uncommitted included)
        self.committed_order: list[str] = []

    saved = Bundle("saved")

    @rule(target=saved, sid=ids, client=st.sampled_from(["c1", "c2"]), day=days)
    def save(self, sid: str, client: str, day: date) -> str:
        """Save a new or the stored version of a session."""
        current = self.model.get(sid)
        version = 0 if current is None else current.version
        result = self.uow.sessions.save(_session(sid, client_id=client, day=day, version=version))
        assert result.version == version + 1
        self.model[sid] = result
        self.order = [s for s in self.order if s != sid] + [sid]
        return sid

    @rule(sid=consumes(saved))
    def delete(self, sid: str) -> None:
        """Delete a saved session if still there."""
        if sid in self.model:
            self.uow.sessions.delete(sid)
            del self.model[sid]
            self.order.remove(sid)

    @rule()
    def commit(self) -> None:
        """Commit: the model becomes the committed state."""
        self.uow.commit()
        self.committed = dict(self.model)
        self.committed_order = list(self.order)

    @rule()
    def rollback(self) -> None:
        """Roll back: back to the committed state."""
        self.uow.rollback()
        self.model = dict(self.committed)
        self.order = list(self.committed_order)

    @invariant()
    def matches_model(self) -> None:
        """Contents, ordering and last-saved agree with the model."""
        repo = self.uow.sessions
        expected = sorted(self.model.values(), key=lambda s: (s.date_of_service, s.id))
        assert repo.list() == expected
        assert repo.count() == len(self.model)
        for client in ("c1", "c2"):
            mine = [s for s in self.order if self.model[s].client_id == client]
            last = repo.last_saved_for(client)
            assert (last.id if last else None) == (mine[-1] if mine else None)

    def teardown(self) -> None:
        """Leave the unit of work."""
        self.uow.__exit__(None, None, None)


TestSessionStore = SessionStoreMachine.TestCase


def test_a_stale_record_commit_leaves_the_store_as_it_was() -> None:
    """A commit refused for a stale client applies none of its writes: the store's dicts and commit count stay."""
    store = MemoryStore()
    InMemoryUnitOfWork(store).seed(clients=[Client(id="c1", first_name="Ada", last_name="Byron")])
    a, b = InMemoryUnitOfWork(store), InMemoryUnitOfWork(store)
    with a, b:
        a.clients.put(attrs.evolve(a.clients.get("c1"), email="a@example.org"))
        b.clients.put(attrs.evolve(b.clients.get("c1"), email="b@example.org"))
        b.payers.put(Payer(id="p1", name="Aetna"))
        a.commit()
        committed = (dict(store.clients), dict(store.payers), store.commits)
        with pytest.raises(ConcurrentUpdate) as info:
            b.commit()
        assert (info.value.code, info.value.field) == ("client.version", "version")
    assert (dict(store.clients), dict(store.payers), store.commits) == committed
    assert (store.clients["c1"].email, store.clients["c1"].version) == ("a@example.org", 2)
