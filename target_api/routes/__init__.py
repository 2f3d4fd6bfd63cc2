"""One router per resource; main.py includes them in an order that keeps the
fixed `/jobs/...` paths ahead of `/jobs/{job_id}`."""
