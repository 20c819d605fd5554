"""libicms for Python: a thin layer over the C API (SWIG module icms.native).

    import icms
    with icms.Database("/tmp/icms.db", fake_clock_ms=1767225600000) as db:
        admin = db.user_bootstrap_admin(icms.HOST, {"name": "Ada", "email": "ada@example.com"})
        ...

Every command of the C API, icms_<name>(db, req, ..., char **out), is the
method Database.<name>(actor, ...): actor is a Request (icms.HOST, or
icms.Request.user(id)); dict and list arguments are sent as JSON; the JSON
result comes back as a dict. Money is an int of base units (Python ints are
exact, so the JSON parser keeps every int64). A failing call raises the
icms.Error subclass of its code, with the library's message.

Threads: one Database may serve many threads (the C handle is thread-safe and
the extension releases the GIL during each call). Errors are read from the
calling thread's last error, right after the call, on the same thread.
"""

import json as _json
import weakref as _weakref

from . import native as _c

__all__ = [
    "Database", "Request", "HOST", "SYSTEM", "ANONYMOUS", "FakeClock", "Gapcoin",
    "Error", "NoMemory", "Invalid", "NotFound", "Exists", "InvalidTransition", "Forbidden",
    "Conflict", "Busy", "BufferTooSmall", "Storage", "TransportError", "VersionMismatch",
    "Idempotency", "Unauthenticated", "Limit", "Corrupt", "CallbackError",
    "version", "base58check_encode", "hex_encode", "hex_decode", "address_to_script",
    "Auth", "audit_keypair", "tx_decode", "header_decode", "script_to_address",
    "MAINNET", "TESTNET", "NODE_0_9", "NODE_0_16", "NODE_2606",
    "Subscription", "NatsPublisher", "nats_available", "RateLimiter", "RpcClient",
]

BASE_UNITS_PER_GAP = 100_000_000


# ---------------------------------------------------------------- errors

class Error(Exception):
    """A libicms failure: .code is the ICMS_E* number, .message the library's text."""

    code = _c.ICMS_ERROR

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    @property
    def name(self):
        """The symbolic name of the code ("ICMS_ENOTFOUND")."""
        return _c.icms_error_name(self.code)

    def __str__(self):
        return f"{self.message} ({self.name})"


def _error_class(name, code, doc):
    return type(name, (Error,), {"code": code, "__doc__": doc})


NoMemory = _error_class("NoMemory", _c.ICMS_ENOMEM, "An allocation failed.")
Invalid = _error_class("Invalid", _c.ICMS_EINVALID, "Invalid input.")
NotFound = _error_class("NotFound", _c.ICMS_ENOTFOUND, "No such record (or not visible).")
Exists = _error_class("Exists", _c.ICMS_EEXISTS, "A record with that identity exists.")
InvalidTransition = _error_class("InvalidTransition", _c.ICMS_EINVALID_TRANSITION,
                                 "The record's state does not allow this.")
Forbidden = _error_class("Forbidden", _c.ICMS_EFORBIDDEN, "The actor may not do this.")
Conflict = _error_class("Conflict", _c.ICMS_ECONFLICT, "A concurrent writer won; retry.")
Busy = _error_class("Busy", _c.ICMS_EBUSY, "The store is locked; retry later.")
BufferTooSmall = _error_class("BufferTooSmall", _c.ICMS_EBUFS, "A buffer is too small.")
Storage = _error_class("Storage", _c.ICMS_ESTORAGE, "The store failed.")
TransportError = _error_class("TransportError", _c.ICMS_ETRANSPORT,
                              "The network or the node failed.")
VersionMismatch = _error_class("VersionMismatch", _c.ICMS_EVERSION,
                               "A data or struct version this build does not understand.")
Idempotency = _error_class("Idempotency", _c.ICMS_EIDEMPOTENCY,
                           "An idempotency key was reused for a different request.")
Unauthenticated = _error_class("Unauthenticated", _c.ICMS_EUNAUTHENTICATED,
                               "Missing, invalid, expired or revoked credentials.")
Limit = _error_class("Limit", _c.ICMS_ELIMIT, "A rate or size limit was exceeded.")
Corrupt = _error_class("Corrupt", _c.ICMS_ECORRUPT, "Stored data failed an integrity check.")
Transport = TransportError  # the name the issue uses
CallbackError = _error_class("CallbackError", _c.ICMS_EUSER,
                             "A host callback stopped the operation.")

_BY_CODE = {cls.code: cls for cls in (
    NoMemory, Invalid, NotFound, Exists, InvalidTransition, Forbidden, Conflict, Busy,
    BufferTooSmall, Storage, TransportError, VersionMismatch, Idempotency, Unauthenticated,
    Limit, Corrupt, CallbackError)}


def _raise(rc):
    """THE place where a negative code becomes an exception (read on this thread)."""
    if rc == _c.ICMS_EUSER:
        original = _c.icms_binding_take_callback_error()
        if original is not None:
            # The callback's own exception, with the traceback it was raised with.
            raise original.with_traceback(original.__traceback__)
    err = _c.icms_error_last()
    message = err.message if err.code == rc else _c.icms_strerror(rc)
    raise _BY_CODE.get(rc, Error)(message, rc)


def _check(result):
    """Unpack a wrapper's result ([rc, out...] or rc); raise on failure."""
    if isinstance(result, list):
        rc, rest = result[0], result[1:]
    else:
        rc, rest = result, []
    if rc < 0:
        _raise(rc)
    if not rest:
        return None
    return rest[0] if len(rest) == 1 else tuple(rest)


def _arg(value):
    if isinstance(value, (dict, list)):
        return _json.dumps(value, separators=(",", ":"))
    return value


def _parse(text):
    return None if text is None else _json.loads(text)


# ---------------------------------------------------------------- requests

class Request:
    """Who is acting: an icms_request. Immutable; with_() makes a variant."""

    __slots__ = ("_fields", "_req")
    _NAMES = ("actor_kind", "actor_id", "idempotency_key", "correlation_id", "trace_id",
              "span_id", "request_id", "source", "access_token")

    def __init__(self, actor_kind=_c.ICMS_ACTOR_USER, actor_id=None, idempotency_key=None,
                 correlation_id=None, trace_id=None, span_id=None, request_id=None,
                 source=None, access_token=None):
        self._fields = (actor_kind, actor_id, idempotency_key, correlation_id, trace_id,
                        span_id, request_id, source, access_token)
        self._req = _c.icms_request(*self._fields)

    @classmethod
    def user(cls, user_id, **kw):
        """A user the host authenticated (user_id is the id, or a dict with "id")."""
        if isinstance(user_id, dict):
            user_id = user_id["id"]
        return cls(_c.ICMS_ACTOR_USER, user_id, **kw)

    @classmethod
    def token(cls, access_token, **kw):
        """A user named by an access token the library verifies."""
        return cls(_c.ICMS_ACTOR_USER, None, access_token=access_token, **kw)

    def with_(self, **changes):
        fields = dict(zip(self._NAMES, self._fields))
        fields.update(changes)
        return Request(**fields)

    def __getattr__(self, name):
        try:
            return self._fields[self._NAMES.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __repr__(self):
        kind = _c.icms_actor_kind_name(self._fields[0]) if hasattr(_c, "icms_actor_kind_name") \
            else self._fields[0]
        return f"Request({kind}, {self._fields[1]!r})"


HOST = Request(_c.ICMS_ACTOR_HOST)
SYSTEM = Request(_c.ICMS_ACTOR_SYSTEM)
ANONYMOUS = Request(_c.ICMS_ACTOR_USER)


# ---------------------------------------------------------------- host ports

class FakeClock:
    """The library's fake clock: reads start_ms until set or advanced.

    Given to a Database, it belongs to it: usable until the Database closes.
    """

    def __init__(self, start_ms):
        self._ptr = _check(_c.icms_clock_fake_new(int(start_ms)))
        self._owner = None

    def _take(self, owner):
        if self._owner is not None or self._ptr is None:
            raise Invalid("this clock already belongs to a database", _c.ICMS_EINVALID)
        self._owner = owner
        return self._ptr

    def _live(self):
        if self._ptr is None or (self._owner is not None and self._owner._db is None):
            raise Invalid("the clock's database is closed", _c.ICMS_EINVALID)
        return self._ptr

    def now(self):
        return _c.icms_clock_now(self._live())

    def set(self, ms):
        _check(_c.icms_clock_fake_set(self._live(), int(ms)))

    def advance(self, delta_ms):
        _check(_c.icms_clock_fake_advance(self._live(), int(delta_ms)))

    def __del__(self):
        if self._owner is None and getattr(self, "_ptr", None) is not None:
            _c.icms_clock_free(self._ptr)
            self._ptr = None


class Gapcoin:
    """How to reach a Gapcoin node: the built-in libcurl transport, or a Python one.

    transport: None for libcurl, or a callable
        post(url: str, headers: list[str], body: bytes, max_len: int) -> (status, body)
    answering one HTTP POST with the host's own HTTP stack. An exception it
    raises stops the command (ICMS_EUSER) and is re-raised to the caller
    with its original traceback.
    """

    def __init__(self, url, username=None, password=None, transport=None, timeout_ms=0,
                 network=0):
        self.url, self.username, self.password = url, username, password
        self.transport, self.timeout_ms, self.network = transport, timeout_ms, network

    def _client(self):
        if self.transport is None:
            return _check(_c.icms_binding_rpc_curl(self.url, self.username, self.password,
                                                   self.timeout_ms))
        if not callable(self.transport):
            raise TypeError("transport must be callable")
        t = _c.icms_binding_transport_new(self.transport)
        return _check(_c.icms_binding_rpc_new(t, self.url))


# ---------------------------------------------------------------- the database

# Commands taking (db, req, ...) and answering JSON: Database.<name>(actor, ...).
_COMMANDS = (
    "user_bootstrap_admin", "user_create", "user_get", "user_update", "user_grant_role",
    "user_revoke_role", "user_set_kyc", "user_deactivate", "user_erase", "user_history",
    "project_create", "project_update", "project_get", "project_list", "project_publish",
    "project_set_payout_address", "project_approve", "project_ship", "project_complete",
    "project_cancel",
    "product_add", "product_update", "product_remove",
    "participation_request", "participation_approve", "participation_reject",
    "participation_withdraw", "participation_get", "participation_list",
    "payment_initiate", "payment_submit", "payment_verify",
    "payment_get", "payment_list", "refund_list", "refund_record", "project_distribute",
    "payout_list", "payout_record", "release_get", "release_list", "release_record", "check",
    "events_read", "events_ack", "events_seek", "events_consumer_delete", "events_consumers",
    "notify_prefs_get", "notify_prefs_set", "notify_list", "notify_retry",
    "auth_sessions", "auth_logout", "auth_logout_all",
)
# Commands taking only (db, ...): Database.<name>(...).
_DB_ONLY = ("tick", "notify_run")


def _command(name):
    fn = getattr(_c, "icms_" + name)

    def call(self, actor, *args):
        if not isinstance(actor, Request):
            raise TypeError("the first argument is the acting Request (icms.HOST, "
                            "icms.Request.user(id), ...)")
        return _parse(_check(fn(self._handle(), actor._req, *map(_arg, args))))

    call.__name__ = name
    call.__doc__ = f"icms_{name}(db, req, ...): see the C header; returns the parsed JSON."
    return call


def _log_notifier_errors():
    """A notifier's exception did not fail the run (it is retried): log it."""
    exc = _c.icms_binding_take_callback_error()
    if exc is not None:
        import logging
        logging.getLogger("icms").error("notifier failed (will be retried): %s", exc,
                                        exc_info=(type(exc), exc, exc.__traceback__))


def _db_only(name):
    fn = getattr(_c, "icms_" + name)

    def call(self, *args):
        result = fn(self._handle(), *map(_arg, args))
        if result[0] >= 0:
            _log_notifier_errors()
        return _parse(_check(result))

    call.__name__ = name
    call.__doc__ = f"icms_{name}(db, ...): see the C header; returns the parsed JSON."
    return call


class Database:
    """An open libicms database (icms_open). A context manager; close() is idempotent.

    path: the SQLite file (created if missing).
    clock: None (real time), a FakeClock (tests), an int (a new FakeClock
      starting there, reachable as db.clock), or a callable returning ms.
    kyc_optional: lift the VERIFIED-KYC requirement for investing.
    gapcoin: a Gapcoin (node URL and transport) to verify payments against.
    sync: SQLite durability, 0 FULL (default), 1 NORMAL, 2 OFF (tests).
    """

    def __init__(self, path, clock=None, kyc_optional=False, gapcoin=None, sync=0,
                 gapcoin_network=0, retry_attempts=0):
        self._db = None
        self._auths = _weakref.WeakSet()
        self._publishers = _weakref.WeakSet()
        self._subs = set()  # open subscriptions
        self._sub_ptrs = []  # closed subscriptions' C structs, freed after icms_close
        self.clock = None
        rc = _c.icms_init()
        if rc < 0:
            _raise(rc)
        self._initialised = True
        try:
            # Validate everything before anything passes to the library, so
            # that a refusal leaves nothing half-owned.
            if isinstance(clock, int) and not isinstance(clock, bool):
                clock = FakeClock(clock)
            if isinstance(clock, FakeClock):
                if clock._owner is not None or clock._ptr is None:
                    raise Invalid("this clock already belongs to a database", _c.ICMS_EINVALID)
            elif clock is not None and not callable(clock):
                raise TypeError("clock must be a FakeClock, an int (ms) or a callable returning ms")
            rpc = gapcoin._client() if gapcoin is not None else None
            if isinstance(clock, FakeClock):
                clock_ptr = clock._take(self)
                self.clock = clock
            elif clock is not None:
                clock_ptr = _c.icms_binding_clock_new(clock)
            else:
                clock_ptr = None
            # From here the library owns clock_ptr and rpc, even if opening fails.
            self._db = _check(_c.icms_binding_open(str(path), clock_ptr, rpc,
                                                   int(bool(kyc_optional)), sync,
                                                   gapcoin_network, retry_attempts))
        except BaseException:
            self._release()
            raise

    def payment_verify_batch(self, actor, payment_ids):
        """icms_payment_verify_batch: payment_ids is a list of str (not JSON)."""
        if not isinstance(actor, Request):
            raise TypeError("the first argument is the acting Request")
        return _parse(_check(_c.icms_payment_verify_batch(self._handle(), actor._req,
                                                          list(payment_ids))))

    def set_notifier(self, send):
        """Hand notifications to send(notification: dict) (icms_notify_set_notifier).

        The dict has id, user_id, channel, address, template_key, data (the
        parsed data_json), event_id and attempt. Returning means handed over;
        raising icms.Invalid means never deliverable (dead-lettered); any
        other exception means retry later, and is logged (logger "icms")
        with its traceback when the run returns. None removes the notifier.
        """
        if send is None:
            _check(_c.icms_notify_set_notifier(self._handle(), None))
            return
        if not callable(send):
            raise TypeError("send must be callable")

        def deliver(n):
            n = dict(n)
            text = n.pop("data_json")
            n["data"] = _json.loads(text) if text else None
            send(n)

        _check(_c.icms_notify_set_notifier(self._handle(), _c.icms_binding_notifier_new(deliver)))

    def _handle(self):
        if self._db is None:
            raise Invalid("the database is closed", _c.ICMS_EINVALID)
        return self._db

    def auth(self, master_key, issuer, audience, **options):
        """An Auth handle over this database: Auth(self, master_key, issuer, audience, ...)."""
        return Auth(self, master_key, issuer, audience, **options)

    def audit_checkpoint(self, secret_key):
        """icms_audit_checkpoint: sign the audit chain's head with a 64-byte secret key.

        Returns the checkpoint as the library wrote it (JSON text
        {"seq","hash","signature"}), to keep outside the store verbatim.
        """
        return _check(_c.icms_audit_checkpoint(self._handle(), secret_key))

    def audit_verify(self, checkpoint=None, public_key=None):
        """icms_audit_verify: the report {"valid","entries","bad_seq","reason"} of an intact chain.

        checkpoint: the text audit_checkpoint returned (or its parsed dict),
        with the public key that signed it; None checks the links only. A
        broken chain raises icms.Corrupt whose .report is the parsed report.
        """
        result = _c.icms_audit_verify(self._handle(), _arg(checkpoint), public_key)
        rc, text = result[0], result[1]
        if rc == _c.ICMS_ECORRUPT:
            try:
                _raise(rc)
            except Corrupt as e:
                e.report = _parse(text)
                raise
        return _parse(_check(result))

    def subscribe(self, pattern, callback, on_error=None):
        """Call callback(event: dict) for each committed event whose type matches pattern.

        pattern: "*", "project.*" or an exact type (icms_events_subscribe).
        The callback runs on the thread that ran the command, right after
        its commit, holding the GIL; it may run commands itself. Delivery is
        at most once and not durable (use events_read for that). An
        exception it raises never reaches the command: it is handed to
        on_error(exc, event) when given, else logged on the "icms" logger
        with its traceback, and counted in Subscription.failures. Returns a
        Subscription (a context manager); close() stops delivery.
        """
        if not callable(callback):
            raise TypeError("callback must be callable")
        if on_error is not None and not callable(on_error):
            raise TypeError("on_error must be callable")
        return Subscription(self, pattern, callback, on_error)

    def nats_publisher(self, **options):
        """A NatsPublisher over this database: NatsPublisher(self, **options)."""
        return NatsPublisher(self, **options)

    def _release(self):
        for auth in list(self._auths):
            auth.close()
        for pub in list(self._publishers):
            pub.close()
        for sub in list(self._subs):
            sub.close()
            sub._done.wait()  # a close under way on another thread finishes first
        if self._db is not None:
            _c.icms_close(self._db)
            self._db = None
        # No dispatch can reach a subscription once its database is closed.
        for ptr in self._sub_ptrs:
            _c.icms_binding_py_sub_free(ptr)
        self._sub_ptrs = []
        if self._initialised:
            self._initialised = False
            _c.icms_shutdown()

    def close(self):
        self._release()

    @property
    def closed(self):
        return self._db is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        if getattr(self, "_initialised", False):
            self._release()


for _name in _COMMANDS:
    setattr(Database, _name, _command(_name))
for _name in _DB_ONLY:
    setattr(Database, _name, _db_only(_name))
del _name


# ---------------------------------------------------------------- helpers

def version():
    """The library's version string ("0.1.0")."""
    return _c.icms_version()


def hex_encode(data: bytes) -> str:
    return _check(_c.icms_gapcoin_hex_encode(data))


def hex_decode(text: str) -> bytes:
    return _check(_c.icms_gapcoin_hex_decode(text))


def base58check_encode(version_byte: int, payload: bytes) -> str:
    return _check(_c.icms_gapcoin_base58check_encode(version_byte, payload))


def address_to_script(address: str, network: int = 0) -> bytes:
    return _check(_c.icms_gapcoin_address_to_script(address, network))


# Gapcoin networks and node generations (icms_gapcoin_network_t, icms_gapcoin_node_t).
MAINNET, TESTNET = _c.ICMS_GAPCOIN_MAIN, _c.ICMS_GAPCOIN_TEST
NODE_0_9, NODE_0_16, NODE_2606 = (_c.ICMS_GAPCOIN_NODE_0_9, _c.ICMS_GAPCOIN_NODE_0_16,
                                  _c.ICMS_GAPCOIN_NODE_2606)


def tx_decode(raw: bytes, network: int = MAINNET, node: int = NODE_2606) -> dict:
    """icms_gapcoin_tx_decode as a dict: txid, wtxid, version, locktime, size,
    base_size, has_witness, coinbase, total_out, inputs, outputs (each with
    value, script hex, type and, when it has one, the address a node of that
    network and generation shows)."""
    return _parse(_check(_c.icms_binding_gapcoin_tx_json(raw, network, node)))


def header_decode(raw: bytes) -> dict:
    """icms_gapcoin_header_decode as a dict (hashes in display order, adder in hex)."""
    return _parse(_check(_c.icms_binding_gapcoin_header_json(raw)))


def script_to_address(script: bytes, network: int = MAINNET, node: int = NODE_2606) -> str:
    """icms_gapcoin_script_to_address; NotFound when the script has no address there."""
    return _check(_c.icms_binding_gapcoin_script_to_address(script, network, node))


# ---------------------------------------------------------------- OAuth helpers

def auth_state_new() -> str:
    """A random OAuth state value (icms_auth_state_new)."""
    return _check(_c.icms_auth_state_new())


def auth_state_check(expected: str, received: str) -> None:
    """Raises Unauthenticated unless the states match (constant time)."""
    _check(_c.icms_auth_state_check(expected, received))


def auth_pkce_verifier_new() -> str:
    """A PKCE code verifier (RFC 7636)."""
    return _check(_c.icms_auth_pkce_verifier_new())


def auth_pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier."""
    return _check(_c.icms_auth_pkce_challenge(verifier))


def auth_pkce_check(verifier: str, challenge: str) -> None:
    """Raises Unauthenticated unless challenge is verifier's S256 challenge."""
    _check(_c.icms_auth_pkce_check(verifier, challenge))


# ---------------------------------------------------------------- the auth handle

class _Closable:
    """One C object wrapped: `with` closes it, and so does the garbage collector
    when the caller never did. _handle_attr names the attribute holding the C
    object, None once closed."""

    _handle_attr = None

    @property
    def closed(self):
        return getattr(self, self._handle_attr, None) is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        if getattr(self, self._handle_attr, None) is not None:
            self.close()


class Auth(_Closable):
    """An icms_auth handle: token issuance and verification over one Database.

    master_key: the 32-byte master key (icms/sys/secrets.h) as a bytes-like
      object. The library keeps its own copy, wiped when the handle is
      freed; pass a bytearray and wipe it yourself afterwards
      (``key[:] = bytes(len(key))``): a bytes object cannot be wiped.
    issuer, audience: the iss and aud claims written and required.
    access_ttl_ms, refresh_ttl_ms, leeway_ms, password_opslimit,
      password_memlimit: icms_auth_options; 0 keeps the library's default.

    Passwords and refresh tokens may be given as str or as bytes-like
    objects: the binding copies them into C memory that it wipes after the
    call. Token pairs come back as dicts of str, which Python cannot wipe.

    A context manager; close() is idempotent and the Database closes its
    open Auth handles before itself. Thread-safe like the Database.
    """

    _handle_attr = "_auth"

    def __init__(self, db, master_key, issuer, audience, access_ttl_ms=0, refresh_ttl_ms=0,
                 leeway_ms=0, password_opslimit=0, password_memlimit=0):
        if not isinstance(db, Database):
            raise TypeError("db is an icms.Database")
        if isinstance(master_key, str):
            raise TypeError("master_key is bytes-like (32 bytes), not str")
        self._auth = None
        self._db = db
        self._auth = _check(_c.icms_binding_auth_new(db._handle(), master_key, issuer, audience,
                                                     access_ttl_ms, refresh_ttl_ms, leeway_ms,
                                                     password_opslimit, password_memlimit))
        db._auths.add(self)

    def _handle(self):
        if self._auth is None or self._db._db is None:
            raise Invalid("the auth handle is closed", _c.ICMS_EINVALID)
        return self._auth

    @staticmethod
    def _req(actor):
        if not isinstance(actor, Request):
            raise TypeError("the first argument is the acting Request")
        return actor._req

    def login_external(self, actor, provider, subject, email=None, email_verified=False,
                       name=None, device=None):
        """icms_auth_login_external: a token pair (dict)."""
        return _parse(_check(_c.icms_binding_auth_login_external(
            self._handle(), self._req(actor), provider, subject, email,
            int(bool(email_verified)), name, device)))

    def link_identity(self, actor, provider, subject):
        """icms_auth_link_identity: {"user_id","provider","linked":true}."""
        return _parse(_check(_c.icms_binding_auth_link_identity(
            self._handle(), self._req(actor), provider, subject)))

    def password_set(self, actor, user_id, password):
        """icms_auth_password_set (password: str or bytes-like)."""
        _check(_c.icms_binding_auth_password_set(self._handle(), self._req(actor), user_id,
                                                 password))

    def login_password(self, actor, email, password, device=None, source=None):
        """icms_auth_login_password: a token pair (dict)."""
        return _parse(_check(_c.icms_binding_auth_login_password(
            self._handle(), self._req(actor), email, password, device, source)))

    def refresh(self, actor, refresh_token):
        """icms_auth_refresh: a new token pair; the refresh token given is spent."""
        return _parse(_check(_c.icms_binding_auth_refresh(self._handle(), self._req(actor),
                                                          refresh_token)))

    def verify(self, access_token):
        """icms_auth_verify: the token's claims, or Unauthenticated."""
        return _parse(_check(_c.icms_binding_auth_verify(self._handle(), access_token)))

    def rotate_keys(self, actor):
        """icms_auth_rotate_keys: {"kid","retired":[...]}."""
        return _parse(_check(_c.icms_auth_rotate_keys(self._handle(), self._req(actor))))

    def jwks(self):
        """icms_auth_jwks: the public signing keys as a JWKS document."""
        return _parse(_check(_c.icms_auth_jwks(self._handle())))

    def close(self):
        if self._auth is not None:
            _c.icms_auth_free(self._auth)
            self._auth = None
            self._db._auths.discard(self)



# ---------------------------------------------------------------- audit checkpoints

def audit_keypair():
    """icms_audit_keypair: (public_key: bytes, secret_key: bytearray), 32 and 64 bytes.

    Keep the secret key out of the store; it is a bytearray so that its
    holder can wipe it (``sk[:] = bytes(len(sk))``) when done.
    """
    public = bytearray(_c.ICMS_AUDIT_PUBLIC_KEY_BYTES)
    secret = bytearray(_c.ICMS_AUDIT_SECRET_KEY_BYTES)
    _check(_c.icms_audit_keypair(public, secret))
    return bytes(public), secret


# ---------------------------------------------------------------- handles shared by threads

class _InFlight:
    """Counts the calls running on a handle, so that close() frees it only after them."""

    def __init__(self):
        import threading
        self._cond = threading.Condition()
        self._calls = 0
        self._closing = False

    def enter(self, what):
        with self._cond:
            if self._closing:
                raise Invalid(f"the {what} is closed", _c.ICMS_EINVALID)
            self._calls += 1

    def leave(self):
        with self._cond:
            self._calls -= 1
            if self._calls == 0:
                self._cond.notify_all()

    def close(self):
        """True for the first caller, once no call is running (it then frees the handle)."""
        with self._cond:
            if self._closing:
                return False
            self._closing = True
            self._cond.wait_for(lambda: self._calls == 0)
            return True


# ---------------------------------------------------------------- push subscriptions

def _log_subscriber_error(exc, event):
    import logging
    logging.getLogger("icms").error("event subscriber failed on %s (seq %s): %s",
                                    event.get("type") if isinstance(event, dict) else None,
                                    event.get("seq") if isinstance(event, dict) else None, exc,
                                    exc_info=(type(exc), exc, exc.__traceback__))


class Subscription:
    """A push subscription (Database.subscribe). A context manager.

    Threads: the callback runs on the thread that committed the event's
    command (any thread using the Database), with the GIL held. close()
    stops delivery: no callback starts after it returns, and it waits for
    callbacks running on other threads to finish (a callback may close its
    own subscription; it is not waited for). The Database closes its
    subscriptions first when it closes.
    """

    def __init__(self, db, pattern, callback, on_error=None):
        import threading
        self._db = db
        self._sub = None
        self._done = threading.Event()  # set once the C subscription is closed
        self._lock = threading.Lock()  # readers of the counters vs. the end of close()
        self.pattern = pattern
        report = on_error or _log_subscriber_error

        def deliver(seq, text):
            event = None
            try:
                event = _json.loads(text)
                callback(event)
                return True
            except Exception as exc:  # noqa: BLE001 -- a subscriber never fails the command
                try:
                    report(exc, event)
                except Exception as again:  # noqa: BLE001
                    _log_subscriber_error(again, event)
                return False

        self._final = None  # (delivered, failures) once closed
        self._sub = _check(_c.icms_binding_py_subscribe(db._handle(), pattern, deliver))
        db._subs.add(self)

    def close(self):
        """Stop delivery (idempotent); waits for callbacks running on other threads.

        Only the first of concurrent calls closes and waits; the others (a
        callback closing its own subscription among them) return at once.
        """
        ptr = self._sub
        if ptr is None or not _c.icms_binding_py_sub_close(ptr):
            return
        with self._lock:
            self._final = (_c.icms_binding_py_sub_delivered(ptr),
                           _c.icms_binding_py_sub_failures(ptr))
            self._sub = None
        # The struct stays until the database is closed (subscription.h says why).
        self._db._sub_ptrs.append(ptr)
        self._db._subs.discard(self)
        self._done.set()

    @property
    def closed(self):
        return self._sub is None

    def _count(self, i):
        # Under the lock: the database frees the C struct only after close()
        # replaced it with the final counts.
        with self._lock:
            if self._sub is None:
                return self._final[i] if self._final else 0
            return (_c.icms_binding_py_sub_delivered, _c.icms_binding_py_sub_failures)[i](self._sub)

    @property
    def delivered(self):
        """Events handed to the callback so far."""
        return self._count(0)

    @property
    def failures(self):
        """How many of those raised."""
        return self._count(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---------------------------------------------------------------- NATS JetStream

def nats_available():
    """True when this libicms was built with NATS support."""
    return bool(_c.icms_nats_available())


class NatsPublisher(_Closable):
    """Drains a Database's outbox to a NATS JetStream stream (icms_nats_publisher_*).

    Options (None or 0: the library's default): url ("nats://127.0.0.1:4222"),
    stream ("ICMS"), subject_prefix ("icms."), consumer (the durable outbox
    consumer it advances, "nats"), create_stream, batch, timeout_ms,
    duplicate_window_ms. Connects on the first drain. A context manager;
    the Database closes its publishers before itself. drain() calls are
    serialized (the C publisher is not for concurrent use); the GIL is
    released while it waits on the server.
    """

    _handle_attr = "_pub"

    def __init__(self, db, url=None, stream=None, subject_prefix=None, consumer=None,
                 create_stream=False, batch=0, timeout_ms=0, duplicate_window_ms=0):
        import threading
        if not isinstance(db, Database):
            raise TypeError("db is an icms.Database")
        self._pub = None
        self._db = db
        self._lock = threading.Lock()
        self._pub = _check(_c.icms_binding_nats_new(db._handle(), url, stream, subject_prefix,
                                                    consumer, int(bool(create_stream)), batch,
                                                    timeout_ms, duplicate_window_ms))
        db._publishers.add(self)

    def drain(self):
        """Publish every event after the consumer's cursor; returns how many the server acked.

        Raises TransportError when the server is unreachable or does not
        acknowledge (the events wait in the outbox).
        """
        with self._lock:
            if self._pub is None or self._db._db is None:
                raise Invalid("the publisher is closed", _c.ICMS_EINVALID)
            n = _c.icms_binding_nats_drain(self._pub)
            if n < 0:
                _raise(n)
            return n

    def close(self):
        with self._lock:
            if self._pub is not None:
                _c.icms_nats_publisher_free(self._pub)
                self._pub = None
                self._db._publishers.discard(self)



# ---------------------------------------------------------------- rate limiting

class RateLimiter(_Closable):
    """An in-memory sliding-window rate limiter (icms_ratelimit_*). Thread-safe.

    anonymous_limit, authenticated_limit: requests per window (0: 100 and
    1000); window_ms (0: 60000); max_keys (0: 10000). clock: None for real
    time, a FakeClock or an int (a new FakeClock starting there, reachable
    as .clock) for tests. A context manager.
    """

    _handle_attr = "_lim"

    def __init__(self, anonymous_limit=0, authenticated_limit=0, window_ms=0, max_keys=0,
                 clock=None):
        self._lim = None
        self.clock = None
        if isinstance(clock, int) and not isinstance(clock, bool):
            clock = FakeClock(clock)
        if clock is not None and not isinstance(clock, FakeClock):
            raise TypeError("clock must be a FakeClock or an int (ms)")
        if clock is not None and (clock._owner is not None or clock._ptr is None):
            raise Invalid("this clock already belongs to a database", _c.ICMS_EINVALID)
        for name, v in (("anonymous_limit", anonymous_limit),
                        ("authenticated_limit", authenticated_limit), ("max_keys", max_keys)):
            if not isinstance(v, int) or v < 0:
                raise Invalid(f"{name} must be an int >= 0", _c.ICMS_EINVALID)
        ptr = clock._take(self) if clock is not None else None
        self._inflight = _InFlight()
        # The limiter owns the clock from here, even when this fails.
        self._lim = _check(_c.icms_binding_ratelimit_new(anonymous_limit, authenticated_limit,
                                                         window_ms, max_keys, ptr))
        self.clock = clock

    @property
    def _db(self):  # what a FakeClock checks to know its owner is still open
        return self._lim

    def _handle(self):
        if self._lim is None:
            raise Invalid("the rate limiter is closed", _c.ICMS_EINVALID)
        return self._lim

    def hit(self, key, authenticated=False):
        """Count one request of key: {"allowed","limit","remaining","retry_after_ms"}.

        A refusal is an answer (allowed False, retry_after_ms > 0), not an
        exception; a bad key (empty, over 256 bytes) raises Invalid.
        """
        self._inflight.enter("rate limiter")
        try:
            result = _c.icms_binding_ratelimit_hit(self._handle(), int(bool(authenticated)), key)
        finally:
            self._inflight.leave()
        if result[0] == _c.ICMS_ELIMIT:
            return _parse(result[1])
        return _parse(_check(result))

    def size(self):
        """Keys remembered now."""
        self._inflight.enter("rate limiter")
        try:
            return _c.icms_ratelimit_size(self._handle())
        finally:
            self._inflight.leave()

    def close(self):
        """Free the limiter (and its clock) once no hit is running. Idempotent."""
        if self._lim is not None and self._inflight.close():
            _c.icms_ratelimit_free(self._lim)
            self._lim = None



# ---------------------------------------------------------------- the Gapcoin RPC client

class RpcClient(_Closable):
    """A Gapcoin node's JSON-RPC client (icms_rpc_client_*), for a host's own checks.

    RpcClient(url, username=None, password=None, transport=None, timeout_ms=0):
    the built-in libcurl transport, or a Python transport as for Gapcoin. The
    GIL is released during each call, so threads may share one client.
    Errors: TransportError (unreachable, not JSON-RPC), Unauthenticated (401),
    NotFound, VersionMismatch (the node lacks the method), Limit (answer too
    large), Invalid (a bad argument); a Python transport's exception is
    re-raised as itself. close() waits for the calls in flight. A context manager.
    """

    _handle_attr = "_rpc"

    def __init__(self, url, username=None, password=None, transport=None, timeout_ms=0):
        self._rpc = None
        self._inflight = _InFlight()
        self._rpc = Gapcoin(url, username, password, transport, timeout_ms)._client()

    def _handle(self):
        if self._rpc is None:
            raise Invalid("the RPC client is closed", _c.ICMS_EINVALID)
        return self._rpc

    def _call(self, method, arg=None, arg2=None, n=0):
        self._inflight.enter("RPC client")
        try:
            return _parse(_check(_c.icms_binding_rpc_call(self._handle(), method, arg, arg2, n)))
        finally:
            self._inflight.leave()

    def getblockcount(self):
        return self._call("getblockcount")["height"]

    def getblockhash(self, height):
        return self._call("getblockhash", n=int(height))["hash"]

    def getblock(self, block_hash):
        """The raw block (bytes)."""
        return bytes.fromhex(self._call("getblock", block_hash)["hex"])

    def getblockheader(self, block_hash):
        """The raw header (bytes)."""
        return bytes.fromhex(self._call("getblockheader", block_hash)["hex"])

    def getrawtransaction(self, txid, block_hash=None):
        """{"raw": bytes, "txid", "confirmations", "in_block", "blockhash", "blocktime",
        "outputs": [{"n", "value", "script", "address"?}]} (the node's view, unverified)."""
        tx = self._call("getrawtransaction", txid, block_hash)
        tx["raw"] = bytes.fromhex(tx["raw"])
        return tx

    def gettxoutproof(self, txid, block_hash=None):
        """The serialized merkle block (bytes)."""
        return bytes.fromhex(self._call("gettxoutproof", txid, block_hash)["hex"])

    def getnewaddress(self):
        return self._call("getnewaddress")["address"]

    def validateaddress(self, address):
        """{"is_valid", "address"?, "script"?}."""
        return self._call("validateaddress", address)

    def check_payment(self, txid, min_amount, address=None, script=None, network=MAINNET,
                      min_confirmations=1, spv=False, min_difficulty=0, block_hash=None):
        """icms_rpc_check_payment: did txid pay at least min_amount to address (or script)?

        Returns {"status": "NOT_FOUND"|"UNCONFIRMED"|"CONFIRMED"|"INSUFFICIENT"|
        "CONFLICTED", "amount", "vouts", "confirmations", "blockhash",
        "is_coinbase", "spv_verified", "verified_depth", "pow"}: a status is an
        answer, not an error. Corrupt when the node's data fails verification.
        """
        self._inflight.enter("RPC client")
        try:
            return _parse(_check(_c.icms_binding_rpc_check_payment(
                self._handle(), txid, script if script is not None else b"", address, network,
                int(min_amount), int(min_confirmations), int(bool(spv)), int(min_difficulty),
                block_hash)))
        finally:
            self._inflight.leave()

    def close(self):
        """Free the client (and its transport) once no call is running. Idempotent."""
        if self._rpc is not None and self._inflight.close():
            _c.icms_rpc_client_free(self._rpc)
            self._rpc = None

