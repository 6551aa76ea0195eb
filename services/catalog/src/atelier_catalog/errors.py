"""The catalog's failures, one class each; `atelier_common.errors` renders them."""

from __future__ import annotations

from atelier_common.errors import AtelierError


class CatalogError(AtelierError):
    pass


# A missing resource answers 404 `NOT_FOUND` (docs/api.md, Errors); the class says what was not found.
class ProductNotFound(CatalogError):
    code, status, default_message = "NOT_FOUND", 404, "Product not found"


class StorefrontNotFound(CatalogError):
    """A storefront an API key may not touch, named by a staff write or read: as unknown to it as
    another storefront's product is (docs/security.md, "API keys")."""

    code, status, default_message = "NOT_FOUND", 404, "Storefront not found"


class CategoryNotFound(CatalogError):
    code, status, default_message = "NOT_FOUND", 404, "Category not found"


class VariantNotFound(CatalogError):
    code, status, default_message = "NOT_FOUND", 404, "Variant not found"


class ImageNotFound(CatalogError):
    code, status, default_message = "NOT_FOUND", 404, "Image not found"


class FileTooLarge(CatalogError):
    code, status, default_message = "FILE_TOO_LARGE", 413, "The file is larger than allowed"


class UnsupportedImage(CatalogError):
    code, status, default_message = "UNSUPPORTED_FORMAT", 400, "Only JPG, PNG and WEBP images are accepted"


class SkuExists(CatalogError):
    code, status, default_message = "SKU_EXISTS", 409, "A product or variant with this SKU already exists"


class SlugExists(CatalogError):
    code, status, default_message = "SLUG_EXISTS", 409, "This slug is already used"


class InsufficientStock(CatalogError):
    code, status, default_message = "INSUFFICIENT_STOCK", 409, "Not enough stock"


class CategoryCycle(CatalogError):
    code, status, default_message = "CATEGORY_CYCLE", 409, "A category cannot be moved under itself or its descendants"


class InvalidAttributes(CatalogError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The attributes do not suit the product kind"


class InvalidOrdering(CatalogError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Unknown ordering field"


class UnknownCategory(CatalogError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The category does not exist"


class UnknownParentCategory(CatalogError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The parent category does not exist"


class ReviewExists(CatalogError):
    code, status, default_message = "REVIEW_EXISTS", 409, "You have already reviewed this product"


class CurrencyNotSold(CatalogError):
    code, status, default_message = ("CURRENCY_NOT_SOLD", 409,
                                     "A storefront the product is limited to does not sell in its currency")


class UnknownStorefront(CatalogError):
    code, status, default_message = "UNKNOWN_STOREFRONT", 400, "No storefront has this slug"


class InvalidCsv(CatalogError):
    code, status, default_message = "INVALID_CSV", 400, "The file is not a CSV of products"


class CategoryNotEmpty(CatalogError):
    code, status, default_message = ("CATEGORY_NOT_EMPTY", 409,
                                     "A category that holds products or other categories cannot be deleted; deactivate it")


class PriceListNotFound(CatalogError):
    code, status, default_message = "NOT_FOUND", 404, "Price list not found"


class InvalidPriceList(CatalogError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The price list is not valid"


class LocationNotFound(CatalogError):
    code, status, default_message = "NOT_FOUND", 404, "Stock location not found"


class LocationNotEmpty(CatalogError):
    code, status, default_message = ("LOCATION_NOT_EMPTY", 409,
                                     "The location holds stock (transfer it first), or is the default location")


class InvalidTransfer(CatalogError):
    code, status, default_message = "INVALID_TRANSFER", 400, "A transfer moves units between two locations"


class LocaleNotOffered(CatalogError):
    code, status, default_message = ("LOCALE_NOT_OFFERED", 422,
                                     "None of the record's storefronts shows this language")
