#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for Bisik's digest tests (aiosmtpd, from PyPI).

Listens on a free port and writes it to --port-file; every message it accepts is written to
--out as NNN.eml with NNN.json beside it (envelope sender and recipients, whether the session
was under TLS, the login used). --tls starttls|implicit|none, with --cert/--key for TLS;
--user/--password make authentication required (and only over TLS); --refuse N answers the
first N messages with a temporary failure (451), to test retries.
Runs until killed. Talks to loopback only.
"""
import argparse
import asyncio
import json
import os
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, out, refuse):
        self.out = out
        self.refuse = refuse
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.n += 1
        base = os.path.join(self.out, "%03d" % self.n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "login": session.auth_data if session.authenticated else None,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--refuse", type=int, default=0)
    a = p.parse_args()

    ctx = None
    if a.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == a.user
            and auth_data.password.decode() == a.password
        )
        return AuthResult(success=ok, auth_data=auth_data.login.decode() if ok else None)

    handler = Sink(a.out, a.refuse)

    def factory():
        kw = dict(hostname="sink.localhost", ident="bisik-test-sink")
        if a.tls == "starttls":
            kw.update(tls_context=ctx, require_starttls=True)
        if a.user:
            kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
        else:
            kw.update(auth_require_tls=False)
        return SMTP(handler, **kw)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            factory, "127.0.0.1", 0, ssl=ctx if a.tls == "implicit" else None
        )
        port = server.sockets[0].getsockname()[1]
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(a.port_file + ".tmp", a.port_file)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
