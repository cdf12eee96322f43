"""/api/v1/stores/{id}/domains: a store on the tenant's own domains."""

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from services.gateway.deps import AnyRequest
from services.gateway.domain_service import DomainService
from services.gateway.models import (
    AddDomainRequest,
    DomainList,
    DomainView,
    StoreView,
    TenantView,
)
from services.gateway.openapi_errors import errors


class DomainController(Controller):
    path = "/api/v1/stores/{store_id:str}/domains"
    tags = ["domains"]

    @post(
        "/",
        status_code=201,
        summary="Add a domain of your own to a store",
        description="The answer's `records` are what to set at your DNS provider: a CNAME "
        "from the domain to the store's platform host, and a TXT record holding a token "
        "that proves the domain yours. Once both resolve as asked, the store's next "
        "generation answers on the domain too (with its own certificate when the platform "
        "serves stores over TLS) and takes it as the shop's address; `state` goes "
        "`pending-dns` → `verifying` → (`issuing-certificate` →) `active`, live on the "
        "websocket as `domain-status` events. 409 when another store has the domain; "
        "403 past the platform's domains per store.",
        responses={
            200: ResponseSpec(
                data_container=DomainView,
                description="The store already has this domain: as it is",
                generate_examples=False,
            ),
            **errors(404, 409),
        },
    )
    async def add(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        data: JSONBody[AddDomainRequest],
        tenant: NamedDependency[TenantView],
        domain_service: NamedDependency[DomainService],
    ) -> Response[DomainView]:
        request.state.audit_target = store_id
        added = await domain_service.add(tenant, store_id, data)
        return Response(added.domain, status_code=201 if added.changed else 200)

    @get("/", summary="A store's own domains, with their state", responses=errors(404))
    async def list_domains(
        self,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
        domain_service: NamedDependency[DomainService],
    ) -> DomainList:
        return await domain_service.list_domains(tenant, store_id)

    @delete(
        "/{domain:str}",
        status_code=202,
        summary="Remove a domain from a store",
        description="A domain the store answers on is removed at the store's next "
        "generation (202): its address returns to its platform host (or its next own "
        "domain). One not yet routed is simply forgotten (200). Either way the domain is "
        "free to be added again, by anyone.",
        responses={
            200: ResponseSpec(
                data_container=StoreView,
                description="The domain was not routed yet: the store as it is",
                generate_examples=False,
            ),
            **errors(404),
        },
    )
    async def remove(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        domain: FromPath[str],
        tenant: NamedDependency[TenantView],
        domain_service: NamedDependency[DomainService],
    ) -> Response[StoreView]:
        request.state.audit_target = store_id
        removed = await domain_service.remove(tenant, store_id, domain)
        return Response(removed.store, status_code=202 if removed.changed else 200)
