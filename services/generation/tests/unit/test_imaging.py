"""Pillow work: the local generator, the restoration pipeline, previews, upload checks, signing."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from atelier_generation import imaging
from atelier_generation.errors import (
    ImageTooLarge,
    ImageTooSmall,
    InvalidShareToken,
    InvalidSignature,
    UnsupportedFormat,
)
from atelier_generation.generators import ImageRequest, render_image, render_images, restore_photo
from atelier_generation.signing import ShareClaim, UrlSigner

from ..conftest import bomb_png, jpeg_bytes, png_bytes, png_header_claiming

BASE = ImageRequest(model="flux-pro", prompt="a dancer", filters={"pose": "action", "lighting": "dramatic"},
                    seed=42, batch_size=2, size=64)


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class TestLocalGenerator:
    def test_same_inputs_same_png(self) -> None:
        first = render_images(BASE)
        assert first == render_images(BASE)
        assert _image(first[0]).format == "PNG" and _image(first[0]).size == (64, 64)

    @pytest.mark.parametrize("change", [
        {"prompt": "an old fisherman"}, {"seed": 43}, {"model": "flux-ultra"},
        {"filters": {"pose": "sitting", "lighting": "dramatic"}},
        {"filters": {"pose": "action", "lighting": "soft"}},
        {"filters": {"pose": "action", "lighting": "dramatic", "clothing": "armour"}},
    ])
    def test_different_inputs_different_pictures(self, change: dict) -> None:
        request = ImageRequest(**{**BASE.__dict__, **change})
        assert render_image(request) != render_image(BASE)

    def test_each_image_of_a_batch_differs(self) -> None:
        first, second = render_images(BASE)
        assert first != second
        assert _image(first).tobytes() != _image(second).tobytes()

    def test_the_picture_is_not_flat(self) -> None:
        colours = _image(render_image(BASE)).getcolors(maxcolors=64 * 64)
        assert colours is not None and len(colours) > 50


class TestRestoration:
    def test_upscales_twice_within_the_cap(self) -> None:
        assert _image(restore_photo(jpeg_bytes(600, 500))).size == (1200, 1000)
        assert _image(restore_photo(jpeg_bytes(900, 600), max_side=1000)).size == (1000, 667)

    def test_stretches_a_faded_photo_to_full_contrast(self) -> None:
        faded = Image.linear_gradient("L").resize((600, 500)).point(lambda v: 100 + v // 4).convert("RGB")
        buffer = io.BytesIO()
        faded.save(buffer, "PNG")
        low, high = _image(restore_photo(buffer.getvalue())).convert("L").getextrema()
        assert low < 20 and high > 235

    def test_the_preview_is_small_and_watermarked(self) -> None:
        full = restore_photo(jpeg_bytes(800, 600))
        preview = _image(imaging.watermarked_preview(full, 320))
        assert preview.format == "JPEG" and preview.size == (320, 240)
        plain = _image(full).convert("RGB")
        plain.thumbnail((320, 320))
        difference = sum(abs(a - b) for a, b in zip(preview.convert("L").tobytes(), plain.convert("L").tobytes(),
                                                    strict=True))
        assert difference / (320 * 240) > 2  # the watermark changed the picture


class TestInspectUpload:
    limits = {"min_side": 500, "max_pixels": 40_000_000}

    def test_the_format_comes_from_the_bytes(self) -> None:
        assert imaging.inspect_upload(png_bytes(800, 600), **self.limits) == imaging.UploadInfo("PNG", 800, 600)
        assert imaging.inspect_upload(jpeg_bytes(500, 700), **self.limits).extension == "jpg"

    @pytest.mark.parametrize(("data", "error"), [
        (b"%PDF-1.7 not an image", UnsupportedFormat),
        (jpeg_bytes(600, 400), ImageTooSmall),
        (png_header_claiming(20_000, 20_000), ImageTooLarge),
        (bomb_png(8_000, 8_000), ImageTooLarge),
        (png_bytes(800, 600)[:-40], UnsupportedFormat),
    ], ids=["pdf", "small", "header-bomb", "bomb", "truncated"])
    def test_bad_files(self, data: bytes, error: type[Exception]) -> None:
        with pytest.raises(error):
            imaging.inspect_upload(data, **self.limits)

    def test_the_bomb_is_refused_before_decoding(self) -> None:
        # Past twice Pillow's own limit, opening refuses it before reading any pixel.
        imaging.set_pixel_limit(40_000_000)
        with pytest.raises(ImageTooLarge):
            imaging.inspect_upload(bomb_png(20_000, 20_000), min_side=1, max_pixels=10**12)


class TestSigning:
    signer = UrlSigner("secret", base_url="https://api.example", asset_ttl=60, share_ttl=60)

    def _parts(self, url: str) -> tuple[str, int, str]:
        path, _, query = url.partition("?")
        params = dict(p.split("=") for p in query.split("&"))
        return path.removeprefix("https://api.example/api/v1/images/files/"), int(params["exp"]), params["sig"]

    def test_a_signed_url_verifies_until_it_expires(self) -> None:
        key, expires, sig = self._parts(self.signer.asset_url("images/a.png", 1000))
        assert key == "images/a.png" and expires == 1062  # 60 s, rounded up to the 6 s window
        self.signer.verify_asset(key, expires, sig, 1062)
        with pytest.raises(InvalidSignature):
            self.signer.verify_asset(key, expires, sig, 1063)

    def test_a_url_stays_the_same_within_its_window_and_lives_the_ttl_at_least(self) -> None:
        assert self.signer.asset_url("images/a.png", 1000) == self.signer.asset_url("images/a.png", 1002.9)
        assert self.signer.asset_url("images/a.png", 1002) != self.signer.asset_url("images/a.png", 1003)
        for now in range(1000, 1013):
            _, expires, _ = self._parts(self.signer.asset_url("images/a.png", now))
            assert now + 60 <= expires < now + 66

    def test_tampering_is_refused(self) -> None:
        key, expires, sig = self._parts(self.signer.asset_url("images/a.png", 1000))
        for args in (("images/b.png", expires, sig), (key, expires + 1, sig), (key, expires, "0" * len(sig))):
            with pytest.raises(InvalidSignature):
                self.signer.verify_asset(*args, 1000)
        other = UrlSigner("other", base_url="", asset_ttl=60, share_ttl=60)
        with pytest.raises(InvalidSignature):
            other.verify_asset(key, expires, sig, 1000)

    def test_share_tokens(self) -> None:
        claim = ShareClaim(restoration_id=uuid.uuid4(), user_id=uuid.uuid4())
        token = self.signer.share_token(claim, 1000)
        assert self.signer.verify_share(token, 1050) == claim
        for bad, now in ((token, 1061), (token[:-1] + "x", 1000), ("garbage", 1000), (token.split(".")[0], 1000)):
            with pytest.raises(InvalidShareToken):
                self.signer.verify_share(bad, now)
