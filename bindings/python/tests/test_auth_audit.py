"""The auth handle (token issuance and verification) and audit checkpoints,
through the Python binding. Run by bindings/python/test.sh."""

import os
import subprocess
import tempfile
import unittest

import icms

NOW = 1767225600000
ISSUER, AUDIENCE = "https://icms.test", "icms-test"
# Argon2id at libsodium's minimum: the tests are about the binding, not the hash's cost.
FAST = {"password_opslimit": 1, "password_memlimit": 8192}


def tamper(path, sql):
    """Edit the store file with the sqlite3 shell, as an intruder with file access would."""
    subprocess.run(["sqlite3", path, sql], check=True, capture_output=True)


class AuthFixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "icms.db")
        self.db = icms.Database(self.path, clock=NOW, sync=2)
        self.admin = self.db.user_bootstrap_admin(icms.HOST, {"name": "Ada",
                                                              "email": "ada@example.com"})
        self.key = bytearray(os.urandom(32))
        self.auth = self.db.auth(self.key, ISSUER, AUDIENCE, **FAST)

    def tearDown(self):
        self.db.close()
        self.tmp.cleanup()


class Tokens(AuthFixture):
    def test_external_login_issues_tokens_that_commands_and_verify_accept(self):
        pair = self.auth.login_external(icms.HOST, "google", "sub-1", email="ines@example.com",
                                        email_verified=True, name="Ines", device="test")
        self.assertEqual(pair["token_type"], "Bearer")
        self.assertTrue(pair["user_created"])
        claims = self.auth.verify(pair["access_token"])
        self.assertEqual(claims["sub"], pair["user_id"])
        self.assertEqual(claims["sid"], pair["session_id"])
        self.assertEqual((claims["iss"], claims["aud"]), (ISSUER, AUDIENCE))
        # A command run with the token acts as its user.
        me = self.db.user_get(icms.Request.token(pair["access_token"]), pair["user_id"])
        self.assertEqual(me["email"], "ines@example.com")
        # The same identity signs the same user in again.
        again = self.auth.login_external(icms.HOST, "google", "sub-1")
        self.assertEqual(again["user_id"], pair["user_id"])
        self.assertFalse(again["user_created"])
        linked = self.auth.link_identity(icms.Request.token(pair["access_token"]), "apple", "a-1")
        self.assertTrue(linked["linked"])
        self.assertEqual(self.auth.login_external(icms.HOST, "apple", "a-1")["user_id"],
                         pair["user_id"])

    def test_external_login_refusals(self):
        with self.assertRaises(icms.Invalid):     # unverified email for a new user
            self.auth.login_external(icms.HOST, "google", "sub-2", email="x@example.com")
        with self.assertRaises(icms.Exists):      # never linked by email alone
            self.auth.login_external(icms.HOST, "google", "sub-3", email="ada@example.com",
                                     email_verified=True)
        with self.assertRaises(icms.Forbidden):   # linking needs a signed-in user
            self.auth.link_identity(icms.ANONYMOUS, "apple", "a-2")

    def test_password_login_refresh_and_theft_detection(self):
        self.auth.password_set(icms.HOST, self.admin["id"], bytearray(b"correct horse"))
        pair = self.auth.login_password(icms.HOST, "ada@example.com", "correct horse",
                                        device="laptop", source="127.0.0.1")
        self.assertEqual(pair["user_id"], self.admin["id"])
        newer = self.auth.refresh(icms.HOST, pair["refresh_token"])
        self.assertNotEqual(newer["refresh_token"], pair["refresh_token"])
        self.assertEqual(self.auth.verify(newer["access_token"])["sub"], self.admin["id"])
        # A spent refresh token revokes the session: the newer pair stops working too.
        with self.assertRaises(icms.Unauthenticated):
            self.auth.refresh(icms.HOST, pair["refresh_token"])
        with self.assertRaises(icms.Unauthenticated):
            self.auth.refresh(icms.HOST, bytearray(newer["refresh_token"].encode()))
        with self.assertRaises(icms.Unauthenticated):
            self.auth.verify(newer["access_token"])

    def test_password_refusals(self):
        with self.assertRaises(icms.Invalid):     # too short
            self.auth.password_set(icms.HOST, self.admin["id"], "short")
        self.auth.password_set(icms.HOST, self.admin["id"], "correct horse")
        with self.assertRaises(icms.Unauthenticated) as cm:
            self.auth.login_password(icms.HOST, "ada@example.com", b"wrong horse")
        self.assertNotIn("wrong horse", cm.exception.message)
        with self.assertRaises(ValueError):       # a NUL cannot cross into C
            self.auth.login_password(icms.HOST, "ada@example.com", "a\0b")
        with self.assertRaises(TypeError):
            self.auth.login_password(icms.HOST, "ada@example.com", 12345)

    def test_verify_refusals(self):
        with self.assertRaises(icms.Unauthenticated):
            self.auth.verify("not-a-token")
        pair = self.auth.login_external(icms.HOST, "google", "s", email="s@example.com",
                                        email_verified=True)
        self.db.clock.advance(16 * 60 * 1000)     # past the 15-minute lifetime and the leeway
        with self.assertRaises(icms.Unauthenticated):
            self.auth.verify(pair["access_token"])

    def test_jwks_and_key_rotation(self):
        pair = self.auth.login_external(icms.HOST, "google", "s", email="s@example.com",
                                        email_verified=True)
        kid = self.auth.jwks()["keys"][0]["kid"]
        with self.assertRaises(icms.Forbidden):   # an investor may not rotate keys
            self.auth.rotate_keys(icms.Request.token(pair["access_token"]))
        rotated = self.auth.rotate_keys(icms.HOST)
        self.assertEqual(rotated["retired"], [kid])
        keys = [k["kid"] for k in self.auth.jwks()["keys"]]
        self.assertEqual(keys, [rotated["kid"], kid])
        self.auth.verify(pair["access_token"])    # the old key still verifies

    def test_master_key_is_checked_and_required_to_match(self):
        with self.assertRaises(icms.Invalid):
            self.db.auth(bytes(31), ISSUER, AUDIENCE)
        with self.assertRaises(TypeError):
            self.db.auth("k" * 32, ISSUER, AUDIENCE)
        with self.assertRaises(icms.Invalid):
            self.db.auth(self.key, "", AUDIENCE)
        # The sealed signing key does not open with another master key.
        with self.assertRaises(icms.Corrupt):
            self.db.auth(os.urandom(32), ISSUER, AUDIENCE)
        # The caller's bytearray can be wiped; the handle keeps its own copy.
        self.key[:] = bytes(32)
        self.auth.login_external(icms.HOST, "google", "s", email="s@example.com",
                                 email_verified=True)

    def test_closing_the_database_closes_its_auth_handles(self):
        other = self.db.auth(bytes(self.key), ISSUER, AUDIENCE, **FAST)
        other.close()
        other.close()
        with self.assertRaises(icms.Invalid):
            other.jwks()
        self.db.close()
        self.assertTrue(self.auth.closed)
        with self.assertRaises(icms.Invalid):
            self.auth.verify("x")


class Audit(AuthFixture):
    def test_checkpoint_verifies_then_an_edited_entry_is_found(self):
        pk, sk = icms.audit_keypair()
        self.assertEqual((len(pk), len(sk)), (32, 64))
        self.assertIsInstance(sk, bytearray)
        self.auth.login_external(icms.HOST, "google", "sub-1", email="ines@example.com",
                                 email_verified=True)
        checkpoint = self.db.audit_checkpoint(sk)
        report = self.db.audit_verify(checkpoint, pk)
        self.assertTrue(report["valid"])
        self.assertGreaterEqual(report["entries"], 2)
        self.assertTrue(self.db.audit_verify()["valid"])
        self.db.user_create(icms.Request.user(self.admin), {"name": "Otto",
                                                            "email": "otto@example.com"})
        self.assertTrue(self.db.audit_verify(checkpoint, pk)["valid"])  # grew past it
        self.db.close()
        tamper(self.path, "DROP TRIGGER icms_append_only_update; "
                          "UPDATE kv_log SET v = replace(CAST(v AS TEXT), '\"provider\":\"google\"', "
                          "'\"provider\":\"gOOgle\"') WHERE k >= X'02617564697400' "
                          "AND k < X'02617564697401'")
        with icms.Database(self.path, clock=NOW) as db:
            with self.assertRaises(icms.Corrupt) as cm:
                db.audit_verify(checkpoint, pk)
            report = cm.exception.report
            self.assertFalse(report["valid"])
            self.assertGreater(report["bad_seq"], 1)
            self.assertIn("edited", report["reason"])

    def test_checkpoint_refusals(self):
        pk, sk = icms.audit_keypair()
        checkpoint = self.db.audit_checkpoint(sk)
        with self.assertRaises(icms.Invalid):      # a 32-byte secret key
            self.db.audit_checkpoint(bytes(32))
        with self.assertRaises(icms.Invalid):
            self.db.audit_verify(checkpoint, pk[:31])
        with self.assertRaises(icms.Invalid):
            self.db.audit_verify('{"seq":1}', pk)
        other_pk, _ = icms.audit_keypair()
        with self.assertRaises(icms.Corrupt):      # signed by another key
            self.db.audit_verify(checkpoint, other_pk)
        with self.assertRaises(BufferError):       # keypair writes into mutable buffers
            icms.native.icms_audit_keypair(bytes(32), bytes(64))


if __name__ == "__main__":
    unittest.main()
