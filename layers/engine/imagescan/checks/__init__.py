"""Image-level checks: each turns an analysed image into findings. Registered in :mod:`.registry`."""
