"""A Medusa shopper and store admin, through the ingress by host name.

Traefik serves on a loopback port; nip.io names cannot resolve here, so every
request goes to that port with the store's host in the Host header, exactly
as a browser's request would arrive at the ingress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

SYSTEM_PAYMENT = "pp_system_default"


@dataclass
class Storefront:
    """One store's HTTP surface: ``url`` is the store URL the API gave."""

    url: str
    ingress: str  # http://127.0.0.1:PORT, where the URL's port is served

    def client(self, **headers: str) -> httpx.AsyncClient:
        host = urlsplit(self.url).netloc
        return httpx.AsyncClient(
            base_url=self.ingress, headers={"Host": host, **headers}, timeout=60
        )


def _body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, (
        f"{response.request.url}: {response.status_code} {response.text[:500]}"
    )
    data: dict[str, Any] = response.json()
    return data


async def admin_token(front: Storefront, email: str, password: str) -> str:
    async with front.client() as http:
        answer = _body(
            await http.post("/auth/user/emailpass", json={"email": email, "password": password})
        )
    token = str(answer.get("token", ""))
    assert token, f"admin login returned no token: {answer}"
    return token


async def admin_get(front: Storefront, token: str, path: str) -> dict[str, Any]:
    async with front.client(Authorization=f"Bearer {token}") as http:
        return _body(await http.get(f"/admin{path}"))


async def publishable_key(front: Storefront, token: str) -> str:
    keys = await admin_get(front, token, "/api-keys?type=publishable&limit=1")
    assert keys["api_keys"], "the store has no publishable API key (the seed makes one)"
    return str(keys["api_keys"][0]["token"])


async def place_order(front: Storefront, key: str, email: str) -> str:
    """region → cart → line item → addresses → shipping → payment → complete."""
    async with front.client(**{"x-publishable-api-key": key}) as http:
        regions = _body(await http.get("/store/regions"))["regions"]
        assert regions and regions[0]["countries"], f"no region with a country: {regions}"
        region, country = regions[0]["id"], regions[0]["countries"][0]["iso_2"]
        products = _body(await http.get("/store/products", params={"region_id": region}))[
            "products"
        ]
        assert products, "the store lists no products"
        variant = products[0]["variants"][0]["id"]
        cart = _body(await http.post("/store/carts", json={"region_id": region, "email": email}))[
            "cart"
        ]["id"]
        await _post(http, f"/store/carts/{cart}/line-items", {"variant_id": variant, "quantity": 1})
        address = {
            "first_name": "Real",
            "last_name": "Shopper",
            "address_1": "1 Test Street",
            "city": "Berlin",
            "postal_code": "10115",
            "country_code": country,
            "phone": "5550100",
        }
        await _post(
            http, f"/store/carts/{cart}", {"shipping_address": address, "billing_address": address}
        )
        options = _body(await http.get("/store/shipping-options", params={"cart_id": cart}))
        assert options["shipping_options"], f"no shipping option for the cart: {options}"
        option = options["shipping_options"][0]["id"]
        await _post(http, f"/store/carts/{cart}/shipping-methods", {"option_id": option})
        collection = (await _post(http, "/store/payment-collections", {"cart_id": cart}))[
            "payment_collection"
        ]["id"]
        await _post(
            http,
            f"/store/payment-collections/{collection}/payment-sessions",
            {"provider_id": SYSTEM_PAYMENT},
        )
        done = await _post(http, f"/store/carts/{cart}/complete", {})
    assert done.get("type") == "order", f"checkout returned no order: {done}"
    return str(done["order"]["id"])


async def _post(http: httpx.AsyncClient, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    return _body(await http.post(path, json=payload))
