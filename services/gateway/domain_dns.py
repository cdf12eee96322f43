"""Looking up a domain's records through the resolver the operator names
(`URUMI_DNS_NAMESERVER`, else the system's): the I/O half of `domains`."""

import dns.asyncresolver
import dns.exception
import dns.resolver

from services.contracts.domains import challenge_name
from services.gateway.domains import DnsCheck, Verdict


def nameserver_address(value: str) -> tuple[str, int]:
    """`1.2.3.4`, `1.2.3.4:5353` or `[::1]:5353` as (address, port)."""
    if value.startswith("["):
        address, _, rest = value[1:].partition("]")
        return address, int(rest.removeprefix(":") or 53)
    address, _, port = value.partition(":")
    return address, int(port or 53)


class DomainResolver:
    def __init__(self, nameserver: str, timeout_s: float) -> None:
        if nameserver:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            address, port = nameserver_address(nameserver)
            self._resolver.nameservers = [address]
            self._resolver.port = port
        else:
            self._resolver = dns.asyncresolver.Resolver()
        self._resolver.lifetime = timeout_s
        self._resolver.cache = None

    async def check(self, domain: str, target: str, token: str) -> DnsCheck:
        """Whether `domain` is a CNAME of `target` and its challenge TXT holds `token`."""
        found = [await self._cname(domain, target), await self._txt(domain, token)]
        for verdict in (Verdict.WRONG, Verdict.UNKNOWN):
            problems = [c.problem for c in found if c.verdict is verdict]
            if problems:
                return DnsCheck(verdict, "; ".join(problems))
        return DnsCheck(Verdict.OK)

    async def _cname(self, domain: str, target: str) -> DnsCheck:
        wanted = f"set CNAME {domain} → {target}"
        try:
            answer = await self._resolver.resolve(domain, "CNAME")
        except dns.resolver.NXDOMAIN:
            return DnsCheck(Verdict.WRONG, f"{domain} does not exist in DNS yet: {wanted}")
        except dns.resolver.NoAnswer:
            return DnsCheck(
                Verdict.WRONG,
                f"{domain} has no CNAME record: {wanted} (a zone's apex cannot have one; "
                "use a name under it, such as www)",
            )
        except dns.exception.DNSException as exc:
            return _unknown(domain, "CNAME", exc)
        names = [rr.target.to_text(omit_final_dot=True).lower() for rr in answer]
        if target in names:
            return DnsCheck(Verdict.OK)
        return DnsCheck(Verdict.WRONG, f"CNAME {domain} points at {names[0]}: {wanted}")

    async def _txt(self, domain: str, token: str) -> DnsCheck:
        name = challenge_name(domain)
        wanted = f"set TXT {name} to the domain's token"
        try:
            answer = await self._resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return DnsCheck(Verdict.WRONG, f"no TXT record {name} yet: {wanted}")
        except dns.exception.DNSException as exc:
            return _unknown(name, "TXT", exc)
        values = [b"".join(rr.strings).decode(errors="replace") for rr in answer]
        if token in values:
            return DnsCheck(Verdict.OK)
        shown = ", ".join(f"'{v}'" for v in values)
        return DnsCheck(Verdict.WRONG, f"TXT {name} holds {shown}, not the token: {wanted}")


def _unknown(name: str, kind: str, exc: Exception) -> DnsCheck:
    why = str(exc) or type(exc).__name__
    return DnsCheck(Verdict.UNKNOWN, f"the {kind} lookup of {name} failed ({why}); retrying")
