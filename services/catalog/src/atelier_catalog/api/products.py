"""/api/v1/products: browsing for everyone, administration for staff (deleting deactivates)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status

from atelier_catalog.api.cache import CachedRoute
from atelier_catalog.api.deps import (
    CONFLICT,
    COUNT_ESTIMATED_HEADER,
    NOT_FOUND,
    STAFF_ONLY,
    ImageServiceDep,
    LanguageDep,
    PriceGroupDep,
    ProductQueryDep,
    ProductReaderDep,
    ProductServiceDep,
    StaffStorefrontDep,
    StockReaderDep,
    StockServiceDep,
    VariantServiceDep,
    VisibilityDep,
)
from atelier_catalog.models import Product, ProductImage, ProductVariant, StockMovement
from atelier_catalog.schemas import (
    ImageCreate,
    ImageRead,
    ImageUpdate,
    LowStockRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    StockAdjustment,
    StockRead,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from atelier_common.auth import SCOPE_STOCK_WRITE, MerchandiserPrincipal, key_access
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses

router = APIRouter(prefix="/api/v1", tags=["products"])
staff_reads = APIRouter(prefix="/api/v1", tags=["products"])
public = APIRouter(prefix="/api/v1", tags=["products"], route_class=CachedRoute)
STAFF: ErrorResponses = {**STAFF_ONLY, **NOT_FOUND, **CONFLICT}


@public.get("/products", summary="List products", response_model=Page[ProductRead])
async def list_products(request: Request, query: ProductQueryDep, page: PageParamsDep, visibility: VisibilityDep,
                        group: PriceGroupDep, language: LanguageDep, products: ProductReaderDep,
                        response: Response) -> dict[str, Any]:
    """Search and filter the products the request's storefront offers (`search`, `category`, price range,
    `in_stock`, `featured`, `kind`), ordered by `ordering`. Staff see inactive ones with `include_inactive`.
    A customer group's member (its token's group on this storefront) sees the group's prices (`price`, with
    `list_price` and `price_list`). Names and descriptions are in the caller's language (`?locale=`, else
    `Accept-Language`; `Content-Language` says which), each falling back to the default text, and a search
    matches them too."""
    count, estimated, results = await products.list(query, visibility, limit=page.limit, offset=page.offset,
                                                    group=group, language=language)
    if estimated:
        response.headers[COUNT_ESTIMATED_HEADER] = "true"
    return build_page(request, page, count, list(results))


@public.get("/products/{product_ref}", summary="Get a product", response_model=ProductRead, responses=NOT_FOUND)
async def get_product(product_ref: str, visibility: VisibilityDep, group: PriceGroupDep, language: LanguageDep,
                      products: ProductReaderDep) -> dict[str, Any]:
    """One product by id or slug, with its variants, images and stock; priced for the caller's customer group,
    in the caller's language (`?locale=`, else `Accept-Language`)."""
    return await products.get(product_ref, visibility, group=group, language=language)


@router.post("/products", summary="Create a product",
             response_model=ProductRead, status_code=status.HTTP_201_CREATED, responses=STAFF)
@key_access()
async def create_product(data: ProductCreate, staff: MerchandiserPrincipal, products: ProductServiceDep) -> Product:
    """A new product; `sku` and `slug` must be unused. Scoped to `storefronts` (empty: every storefront)."""
    return await products.create(data, actor_id=staff.user_id, staff=staff)


@router.put("/products/{product_ref}", summary="Replace a product", response_model=ProductRead, responses=STAFF)
@key_access()
async def replace_product(product_ref: str, data: ProductUpdate, staff: MerchandiserPrincipal,
                          products: ProductServiceDep) -> Product:
    """Change a product's fields (those sent). Its stock moves only through `POST …/stock`."""
    return await products.update(product_ref, data, staff=staff)


@router.patch("/products/{product_ref}", summary="Update a product", response_model=ProductRead, responses=STAFF)
@key_access()
async def update_product(product_ref: str, data: ProductUpdate, staff: MerchandiserPrincipal,
                         products: ProductServiceDep) -> Product:
    """Change some of a product's fields. Its stock moves only through `POST …/stock`."""
    return await products.update(product_ref, data, staff=staff)


@router.delete("/products/{product_ref}", summary="Deactivate a product",
               status_code=status.HTTP_204_NO_CONTENT, responses=STAFF)
@key_access()
async def deactivate_product(product_ref: str, staff: MerchandiserPrincipal, products: ProductServiceDep) -> Response:
    """Stop selling a product: it is hidden from shoppers and cannot be ordered (it is kept, inactive)."""
    await products.deactivate(product_ref, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/products/{product_ref}/stock", summary="Adjust stock", response_model=StockRead, responses=STAFF)
@key_access(SCOPE_STOCK_WRITE)
async def adjust_stock(product_ref: str, data: StockAdjustment, staff: MerchandiserPrincipal,
                       stock: StockServiceDep) -> StockMovement:
    """Add (positive `delta`) or remove (negative) units of a product or one of its variants, with a reason kept in
    the stock history; stock never goes below zero."""
    return await stock.adjust(product_ref, data, actor_id=staff.user_id, staff=staff)


@staff_reads.get("/products/low-stock", summary="Products low in stock", response_model=LowStockRead,
                 responses=STAFF_ONLY)
@key_access(SCOPE_STOCK_WRITE)
async def low_stock(storefront: StaffStorefrontDep, staff: MerchandiserPrincipal,
                    stock: StockReaderDep) -> LowStockRead:
    """What the storefront (`?storefront=`, else the request's) offers with at most its `low_stock_threshold` in
    stock, lowest first (at most 200); nothing when it sets no threshold."""
    threshold, items = await stock.low_stock(storefront, staff)
    return LowStockRead(storefront=storefront.slug, threshold=threshold, count=len(items), results=items)


@router.post("/products/{product_ref}/variants", summary="Add a variant",
             response_model=VariantRead, status_code=status.HTTP_201_CREATED,
             responses=STAFF)
@key_access()
async def create_variant(product_ref: str, data: VariantCreate, staff: MerchandiserPrincipal,
                         variants: VariantServiceDep) -> ProductVariant:
    """A variant of the product (a size, a colour) with its own SKU, price and stock."""
    return await variants.add(product_ref, data, actor_id=staff.user_id, staff=staff)


@router.put("/products/{product_ref}/variants/{variant_id}", summary="Replace a variant",
            response_model=VariantRead, responses=STAFF)
@key_access()
async def replace_variant(product_ref: str, variant_id: str, data: VariantUpdate, staff: MerchandiserPrincipal,
                          variants: VariantServiceDep) -> ProductVariant:
    """Change a variant's fields (those sent)."""
    return await variants.update(product_ref, variant_id, data, staff=staff)


@router.patch("/products/{product_ref}/variants/{variant_id}", summary="Update a variant",
              response_model=VariantRead, responses=STAFF)
@key_access()
async def update_variant(product_ref: str, variant_id: str, data: VariantUpdate, staff: MerchandiserPrincipal,
                         variants: VariantServiceDep) -> ProductVariant:
    """Change some of a variant's fields."""
    return await variants.update(product_ref, variant_id, data, staff=staff)


@router.delete("/products/{product_ref}/variants/{variant_id}", summary="Deactivate a variant",
               status_code=status.HTTP_204_NO_CONTENT,
               responses=STAFF)
@key_access()
async def deactivate_variant(product_ref: str, variant_id: str, staff: MerchandiserPrincipal,
                             variants: VariantServiceDep) -> Response:
    """Stop selling a variant (it is kept, inactive)."""
    await variants.deactivate(product_ref, variant_id, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/products/{product_ref}/images", summary="Add an image by URL",
             response_model=ImageRead, status_code=status.HTTP_201_CREATED,
             responses=STAFF)
@key_access()
async def create_image(product_ref: str, data: ImageCreate, staff: MerchandiserPrincipal,
                       images: ImageServiceDep) -> ProductImage:
    """Attach an image the product shows from `url`; `is_primary` makes it the product's main picture."""
    return await images.add(product_ref, data, staff=staff)


@router.post("/products/{product_ref}/images/upload", summary="Upload an image",
             response_model=ImageRead, status_code=status.HTTP_201_CREATED,
             responses={**STAFF, 400: {"description": "UNSUPPORTED_FORMAT"}, 413: {"description": "FILE_TOO_LARGE"}})
@key_access()
async def upload_image(product_ref: str, image: Annotated[UploadFile, File(description="JPG, PNG or WEBP")],
                       staff: MerchandiserPrincipal, images: ImageServiceDep,
                       alt_text: Annotated[str, Form(max_length=300)] = "",
                       is_primary: Annotated[bool, Form()] = False) -> ProductImage:
    """Upload a picture (multipart `image`, with `alt_text` and `is_primary`). The catalog stores it and serves it
    at `/media/<key>` (its `url`)."""
    return await images.upload(product_ref, image.read, alt_text=alt_text, is_primary=is_primary, staff=staff)


@router.put("/products/{product_ref}/images/{image_id}", summary="Replace an image",
            response_model=ImageRead, responses=STAFF)
@key_access()
async def replace_image(product_ref: str, image_id: str, data: ImageUpdate, staff: MerchandiserPrincipal,
                        images: ImageServiceDep) -> ProductImage:
    """Change an image's fields (those sent)."""
    return await images.update(product_ref, image_id, data, staff=staff)


@router.patch("/products/{product_ref}/images/{image_id}", summary="Update an image",
              response_model=ImageRead, responses=STAFF)
@key_access()
async def update_image(product_ref: str, image_id: str, data: ImageUpdate, staff: MerchandiserPrincipal,
                       images: ImageServiceDep) -> ProductImage:
    """Change some of an image's fields (alt text, order, primary)."""
    return await images.update(product_ref, image_id, data, staff=staff)


@router.delete("/products/{product_ref}/images/{image_id}", summary="Delete an image",
               status_code=status.HTTP_204_NO_CONTENT,
               responses=STAFF)
@key_access()
async def delete_image(product_ref: str, image_id: str, staff: MerchandiserPrincipal, images: ImageServiceDep) -> Response:
    """Remove an image from the product."""
    await images.remove(product_ref, image_id, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
