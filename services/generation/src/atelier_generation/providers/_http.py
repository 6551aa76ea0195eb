"""What every adapter does the same way over HTTP: keep its settings (`HttpAdapter`), classify an
answer, read Retry-After, download and check images. The shared client has no retries of its own:
a submit goes out exactly once."""

from __future__ import annotations

import base64
import binascii
import email.utils
import io
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from PIL import Image, UnidentifiedImageError

from atelier_generation.providers.base import ProviderFailed, ProviderUnavailable
from atelier_generation.settings import ProviderSettings

# Answers that mean "not now": the request was not taken (429, 5xx) or the server timed out (408).
_PASSING = {408, 409, 425, 429}
MAX_IMAGE_BYTES = 50 * 1024 * 1024


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (a number or an HTTP date) — or Google's `RetryInfo.retryDelay`
    (`"23s"`) in the error body; None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return _google_retry_delay(response)
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _google_retry_delay(response: httpx.Response) -> float | None:
    try:
        details = response.json()["error"]["details"]
        delay = next(d["retryDelay"] for d in details if isinstance(d, dict) and "retryDelay" in d)
        return max(0.0, float(str(delay).removesuffix("s")))
    except (ValueError, KeyError, TypeError, StopIteration):
        return None


def data_uri(data: bytes) -> str:
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


async def send(client: httpx.AsyncClient, method: str, url: str, *, provider: str, submit: bool,
               timeout: float, **kwargs: Any) -> httpx.Response:
    """One HTTP call to a provider, its failures typed.

    No connection → `ProviderUnavailable` (nothing was sent: safe to try again). A timeout or a
    dropped answer → `ProviderUnavailable` for a read, but `ProviderFailed` for a submit: the
    provider may have taken (and will bill) the job, and sending it again could pay twice.
    429/5xx → `ProviderUnavailable` with the provider's Retry-After.
    """
    try:
        response = await client.request(method, url, timeout=timeout, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ProviderUnavailable(f"{provider} could not be reached ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        if submit:
            raise ProviderFailed(f"{provider} did not answer the submit ({type(exc).__name__}); "
                                 "it is not sent again, as it may have been accepted") from exc
        raise ProviderUnavailable(f"{provider} did not answer ({type(exc).__name__})") from exc
    if response.status_code in _PASSING or response.status_code >= 500:
        raise ProviderUnavailable(f"{provider} answered {response.status_code}", retry_after=retry_after(response))
    return response


def json_of(response: httpx.Response, provider: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderFailed(f"{provider} answered something that is not JSON") from exc


def checked_image(data: bytes, provider: str) -> bytes:
    """Bytes that must be a readable image: anything else fails the job, not the viewer."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ProviderFailed(f"{provider} returned an image larger than allowed")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (ValueError, UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ProviderFailed(f"{provider} returned something that is not an image") from exc
    return data


def decoded_image(value: Any, provider: str) -> bytes:
    try:
        data = base64.b64decode(value, validate=True)
    except (TypeError, ValueError, binascii.Error) as exc:
        raise ProviderFailed(f"{provider} returned an image that is not base64") from exc
    return checked_image(data, provider)


async def download(client: httpx.AsyncClient, url: Any, *, provider: str, timeout: float) -> bytes:
    """Copy a result out of the provider's storage at once: its URLs expire."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ProviderFailed(f"{provider} returned no usable image URL")
    response = await send(client, "GET", url, provider=provider, submit=False, timeout=timeout)
    if response.status_code != 200:
        raise ProviderFailed(f"{provider}'s image could not be downloaded ({response.status_code})")
    return checked_image(response.content, provider)


# The catalogue's `params` are sent to the provider, except this key: the provider's prices in USD
# per million tokens (`{"input": "5.00", "output": "40.00"}`), for providers that report tokens
# rather than a price (OpenAI's gpt-image models, Gemini).
PRICING_KEY = "usd_per_million_tokens"


def sent_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key != PRICING_KEY}


def token_cost(params: Mapping[str, Any], input_tokens: Any, output_tokens: Any) -> Decimal | None:
    """The price of the tokens the provider reported, or None without prices or counts."""
    prices = params.get(PRICING_KEY)
    if not isinstance(prices, Mapping) or not isinstance(input_tokens, int) or not isinstance(output_tokens, int):
        return None
    try:
        per_input, per_output = Decimal(str(prices.get("input", 0))), Decimal(str(prices.get("output", 0)))
    except ArithmeticError:
        return None
    return ((per_input * input_tokens + per_output * output_tokens) / Decimal(1_000_000)).quantize(Decimal("0.000001"))


class HttpAdapter:
    """What every adapter keeps of its settings: the shared client, the base URL (the provider's own
    unless configured), the timeout and the API key's header; `request` sends with them."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]

    def __init__(self, client: httpx.AsyncClient, settings: ProviderSettings) -> None:
        self.client = client
        self.base_url = (settings.base_url or self.default_base_url).rstrip("/")
        self.timeout = settings.timeout_seconds
        self.headers = self.key_headers(settings.api_key.get_secret_value())

    @staticmethod
    def key_headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    async def request(self, method: str, url: str, *, submit: bool = False, **kwargs: Any) -> httpx.Response:
        return await send(self.client, method, url, provider=self.name, submit=submit, timeout=self.timeout,
                          headers=self.headers, **kwargs)
