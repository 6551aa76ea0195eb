"""Each adapter against its provider's fake, called directly: the wire details the job tests do not see."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from atelier_generation.providers import (
    InvalidWebhook,
    ProviderFailed,
    ProviderRequest,
    ProviderUnavailable,
    SafetyRefusal,
    _http,
)
from atelier_generation.providers.fal import FalProvider
from atelier_generation.providers.gemini import GeminiProvider
from atelier_generation.providers.kie import KieProvider
from atelier_generation.providers.openai import OpenAIImagesProvider
from atelier_generation.providers.replicate import ReplicateProvider
from atelier_generation.settings import ProviderSettings
from atelier_testing.fakes.providers import SAFETY_WORD, fal, gemini, kie, openai, picture, replicate

PRICES = {_http.PRICING_KEY: {"input": "5", "output": "40"}}


def client(app, base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(mounts={base: httpx.ASGITransport(app=app)})


class TestFal:
    @pytest.fixture
    def fake(self) -> fal.FakeFal:
        return fal.FakeFal()

    def adapter(self, fake: fal.FakeFal, http: httpx.AsyncClient) -> FalProvider:
        return FalProvider(http, ProviderSettings(api_key=fal.API_KEY, base_url="http://fal.test",
                                                  jwks_url="http://fal.test/.well-known/jwks.json"))

    async def test_submit_poll_fetch_with_references_and_a_webhook(self, fake) -> None:
        async with client(fake.app, "http://fal.test") as http:
            provider = self.adapter(fake, http)
            submitted = await provider.submit(ProviderRequest(
                model="fal-ai/flux-pro/kontext", prompt="a fox", batch_size=2, seed=3,
                references=(picture("ref"),), webhook_url="https://atelier.example/hook"))
            [job] = fake.submits
            assert submitted.request_id == job.id and job.body["num_images"] == 2 and job.body["seed"] == 3
            assert job.body["image_urls"][0].startswith("data:image/png;base64,")
            assert job.body["_webhook"] == "https://atelier.example/hook"
            assert (await provider.poll("fal-ai/flux-pro/kontext", job.id)).done
            result = await provider.fetch("fal-ai/flux-pro/kontext", job.id)
            assert len(result.images) == 2 and result.cost is None and "timings" in result.usage

    async def test_unknown_requests_and_bad_keys_fail(self, fake) -> None:
        async with client(fake.app, "http://fal.test") as http:
            with pytest.raises(ProviderFailed):
                await self.adapter(fake, http).poll("fal-ai/flux-pro", "nope")
            wrong = FalProvider(http, ProviderSettings(api_key="wrong", base_url="http://fal.test"))
            with pytest.raises(ProviderFailed, match="401"):
                await wrong.submit(ProviderRequest(model="fal-ai/flux-pro", prompt="x"))

    async def test_a_flagged_picture_is_a_safety_refusal(self, fake) -> None:
        async with client(fake.app, "http://fal.test") as http:
            provider = self.adapter(fake, http)
            submitted = await provider.submit(ProviderRequest(model="fal-ai/flux-pro", prompt=SAFETY_WORD))
            assert submitted.request_id
            with pytest.raises(SafetyRefusal):
                await provider.fetch("fal-ai/flux-pro", submitted.request_id)

    async def test_webhooks_verify_against_the_published_keys_even_after_a_rotation(self, fake) -> None:
        async with client(fake.app, "http://fal.test") as http:
            provider = self.adapter(fake, http)
            job = fake.new_job("fal-ai/flux-pro", {}, "x")
            headers, body = fake.signed_webhook(job.id)
            lower = {k.lower(): v for k, v in headers.items()}
            assert (await provider.verify_webhook(lower, body)).request_id == job.id
            fake.signing_key = Ed25519PrivateKey.generate()  # fal rotated its key: the JWKS is fetched again
            headers, body = fake.signed_webhook(job.id)
            assert (await provider.verify_webhook({k.lower(): v for k, v in headers.items()}, body)).done
            with pytest.raises(InvalidWebhook):
                await provider.verify_webhook({k.lower(): v for k, v in headers.items()}, body.replace(b"OK", b"KO"))


class TestOpenAI:
    async def test_references_go_to_edits_and_the_cost_is_priced_from_usage(self) -> None:
        fake = openai.FakeOpenAI()
        async with client(fake.app, "http://openai.test") as http:
            provider = OpenAIImagesProvider(http, ProviderSettings(api_key=openai.API_KEY,
                                                                   base_url="http://openai.test/v1"))
            submitted = await provider.submit(ProviderRequest(model="gpt-image-1", prompt="a fox", params=PRICES,
                                                              references=(picture("a"), picture("b"))))
            assert fake.reference_counts == [2] and submitted.request_id is None
            result = submitted.result
            assert result is not None and len(result.images) == 1
            # (50 + 400) input tokens at $5/M + 1056 output tokens at $40/M
            assert result.cost == Decimal("0.044490") and result.usage["output_tokens"] == 1056
            assert _http.PRICING_KEY not in fake.submits[0].body

    async def test_dall_e_is_asked_for_base64_and_safety_codes_are_refusals(self) -> None:
        fake = openai.FakeOpenAI()
        async with client(fake.app, "http://openai.test") as http:
            provider = OpenAIImagesProvider(http, ProviderSettings(api_key=openai.API_KEY,
                                                                   base_url="http://openai.test/v1"))
            await provider.submit(ProviderRequest(model="dall-e-3", prompt="a fox"))
            assert fake.submits[0].body["response_format"] == "b64_json"
            with pytest.raises(SafetyRefusal, match="safety system"):
                await provider.submit(ProviderRequest(model="gpt-image-1", prompt=SAFETY_WORD))
            fake.refuse_next(429, retry_after=7)
            with pytest.raises(ProviderUnavailable) as refused:
                await provider.submit(ProviderRequest(model="gpt-image-1", prompt="x"))
            assert refused.value.retry_after == 7


class TestReplicate:
    def adapter(self, http: httpx.AsyncClient, secret: str = replicate.WEBHOOK_SECRET) -> ReplicateProvider:
        return ReplicateProvider(http, ProviderSettings(api_key=replicate.API_KEY, base_url="http://replicate.test",
                                                        webhook_secret=secret))

    async def test_a_versioned_model_uses_the_predictions_route(self) -> None:
        fake = replicate.FakeReplicate()
        async with client(fake.app, "http://replicate.test") as http:
            submitted = await self.adapter(http).submit(ProviderRequest(model="owner/model:abc123", prompt="x"))
            assert fake.submits[0].model == "version:abc123" and submitted.request_id == fake.submits[0].id

    async def test_standard_webhooks_are_verified(self) -> None:
        fake = replicate.FakeReplicate()
        async with client(fake.app, "http://replicate.test") as http:
            provider = self.adapter(http)
            job = fake.new_job("a/b", {"input": {"prompt": "x"}}, "x")
            headers, body = fake.signed_webhook(job.id)
            assert (await provider.verify_webhook(headers, body)).request_id == job.id
            for bad_headers, bad_body in (
                    (headers, body + b" "),
                    fake.signed_webhook(job.id, timestamp=int(time.time()) - 3600),
                    fake.signed_webhook(job.id, secret="whsec_" + "QUJD" * 8),
                    ({**headers, "webhook-signature": "v1"}, body)):
                with pytest.raises(InvalidWebhook):
                    await provider.verify_webhook(bad_headers, bad_body)


class TestGemini:
    def adapter(self, http: httpx.AsyncClient) -> GeminiProvider:
        return GeminiProvider(http, ProviderSettings(api_key=gemini.API_KEY, base_url="http://gemini.test"))

    async def test_references_are_inline_and_the_cost_comes_from_usage_metadata(self) -> None:
        fake = gemini.FakeGemini()
        async with client(fake.app, "http://gemini.test") as http:
            submitted = await self.adapter(http).submit(ProviderRequest(
                model="gemini-2.5-flash-image", prompt="a fox", params=PRICES, batch_size=2,
                references=(picture("character"),)))
            assert fake.reference_counts == [1, 1]
            result = submitted.result
            assert result is not None and len(result.images) == 2
            assert result.usage["promptTokenCount"] == 2 * (12 + 258)
            assert result.cost == Decimal("0.105900")  # 540 × $5/M + 2580 × $40/M

    async def test_a_429s_retry_delay_and_a_refusal_after_a_paid_image(self) -> None:
        fake = gemini.FakeGemini()
        async with client(fake.app, "http://gemini.test") as http:
            fake.refuse_next(429, retry_after=23)
            with pytest.raises(ProviderUnavailable) as refused:
                await self.adapter(http).submit(ProviderRequest(model="m", prompt="x"))
            assert refused.value.retry_after == 23

            fake.refusals.clear()
            submits = len(fake.submits)
            fake.refuse_next(503, after=1)  # the second image of the batch meets a 503
            with pytest.raises(ProviderFailed, match="not sent again"):
                await self.adapter(http).submit(ProviderRequest(model="m", prompt="x", batch_size=2))
            assert len(fake.submits) == submits + 1
            with pytest.raises(SafetyRefusal, match="PROHIBITED_CONTENT"):
                await self.adapter(http).submit(ProviderRequest(model="m", prompt=SAFETY_WORD))


class TestKie:
    def adapter(self, http: httpx.AsyncClient) -> KieProvider:
        return KieProvider(http, ProviderSettings(api_key=kie.API_KEY, base_url="http://kie.test",
                                                  webhook_secret=kie.WEBHOOK_SECRET))

    async def test_codes_in_the_body_are_classified(self) -> None:
        fake = kie.FakeKie()
        async with client(fake.app, "http://kie.test") as http:
            fake.refuse_next(503)
            with pytest.raises(ProviderUnavailable, match="455"):
                await self.adapter(http).submit(ProviderRequest(model="m", prompt="x"))
            bad = KieProvider(http, ProviderSettings(api_key="wrong", base_url="http://kie.test"))
            with pytest.raises(ProviderFailed, match="401"):
                await bad.submit(ProviderRequest(model="m", prompt="x"))
            with pytest.raises(ProviderFailed, match="422"):
                await self.adapter(http).poll("m", "task_unknown")

    async def test_callbacks_are_verified(self) -> None:
        fake = kie.FakeKie()
        async with client(fake.app, "http://kie.test") as http:
            provider = self.adapter(http)
            job = fake.new_job("m", {"input": {"prompt": "x"}}, "x")
            headers, body = fake.signed_callback(job.id)
            lower = {k.lower(): v for k, v in headers.items()}
            assert (await provider.verify_webhook(lower, body)).request_id == job.id
            for bad in (fake.signed_callback(job.id, secret="other"),
                        fake.signed_callback(job.id, timestamp=int(time.time()) - 3600)):
                with pytest.raises(InvalidWebhook):
                    await provider.verify_webhook({k.lower(): v for k, v in bad[0].items()}, bad[1])


class TestHttp:
    async def test_a_timeout_is_passing_for_a_read_but_final_for_a_submit(self, silent_server) -> None:
        async with silent_server() as url, httpx.AsyncClient() as http:
            with pytest.raises(ProviderUnavailable):
                await _http.send(http, "GET", url, provider="p", submit=False, timeout=0.2)
            with pytest.raises(ProviderFailed, match="not sent again"):
                await _http.send(http, "POST", url, provider="p", submit=True, timeout=0.2)

    async def test_no_connection_is_passing_even_for_a_submit(self) -> None:
        async with httpx.AsyncClient() as http:
            with pytest.raises(ProviderUnavailable):
                await _http.send(http, "POST", "http://127.0.0.1:9", provider="p", submit=True, timeout=1)

    def test_retry_after_reads_seconds_and_dates(self) -> None:
        assert _http.retry_after(httpx.Response(429, headers={"Retry-After": "3"})) == 3
        later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
        assert 50 < (_http.retry_after(httpx.Response(429, headers={"Retry-After": later})) or 0) <= 60
        assert _http.retry_after(httpx.Response(429)) is None
