"""Bad input on generation's routes is a 4xx in the common error format, never a 500."""

from __future__ import annotations

import time
import uuid

import pytest

from atelier_generation.signing import ShareClaim, UrlSigner
from atelier_testing import assert_error


@pytest.mark.parametrize("sig", ["é", "ü" * 64, "\u00ff" + "0" * 63, "%C3%A9"])
async def test_a_non_ascii_signature_on_a_signed_url_is_refused(api, sig: str) -> None:
    response = await api.client.get("/api/v1/images/files/some/key.png", params={"exp": "9999999999", "sig": sig})
    assert_error(response, 403, "INVALID_SIGNATURE")


@pytest.mark.parametrize("token", ["abc.é", "é.é", "eyJyIjoiMSJ9.ü" + "0" * 63])
async def test_a_non_ascii_share_token_is_refused(api, token: str) -> None:
    response = await api.client.get(f"/api/v1/restorations/{uuid.uuid4()}/share-redirect/twitter",
                                    params={"s": token})
    assert_error(response, 400, "INVALID_TOKEN")


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "page=9223372036854775808", "tags=a%00"])
async def test_bad_gallery_queries_are_validation_errors(api, query: str) -> None:
    assert_error(await api.client.get(f"/api/v1/images/gallery?{query}"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("constant", ["changethis", "", "secret", "test-signing-secret"])
async def test_a_url_signed_with_a_constant_is_refused_on_a_fresh_dev_install(start_generation, constant: str) -> None:
    async with start_generation(environment="dev", url_signing_secret="") as api:  # unset, as on a new install
        forged = UrlSigner(constant, base_url="http://testserver", asset_ttl=3600, share_ttl=900)
        assert_error(await api.fetch(forged.asset_url("some/key.png", time.time())), 403, "INVALID_SIGNATURE")
        token = forged.share_token(ShareClaim(restoration_id=uuid.uuid4(), user_id=uuid.uuid4()), time.time())
        response = await api.client.get(f"/api/v1/restorations/{uuid.uuid4()}/share-redirect/twitter",
                                        params={"s": token})
        assert_error(response, 400, "INVALID_TOKEN")
