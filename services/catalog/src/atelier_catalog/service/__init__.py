"""The catalog's use cases, one module each; every method may flush but never commits."""

from atelier_catalog.service.categories import CategoryService
from atelier_catalog.service.images import ImageService
from atelier_catalog.service.locations import LocationService
from atelier_catalog.service.price_lists import GroupPrices, PriceListService
from atelier_catalog.service.pricing import PricingService
from atelier_catalog.service.products import ProductService
from atelier_catalog.service.reservations import ReservationService
from atelier_catalog.service.reviews import ReviewService, WishlistService
from atelier_catalog.service.stock import StockService
from atelier_catalog.service.transfer import ProductTransferService
from atelier_catalog.service.translation_transfer import TranslationTransferService
from atelier_catalog.service.translations import Texts, TranslationService
from atelier_catalog.service.variants import VariantService

__all__ = ["CategoryService", "GroupPrices", "ImageService", "LocationService", "PriceListService", "PricingService",
           "ProductService", "ProductTransferService", "ReservationService", "ReviewService", "StockService",
           "Texts", "TranslationService", "TranslationTransferService", "VariantService", "WishlistService"]
