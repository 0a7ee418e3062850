"""Server-rendered pages (patient H5, kiosk, staff console) on the same services as the API."""
