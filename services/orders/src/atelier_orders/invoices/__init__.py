"""Invoices and credit notes: the rules (`rules`: numbers, lines, the tax per rate), the use
cases (`service`) and the PDF (`documents`)."""
