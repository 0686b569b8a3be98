"""Reading runs' logs (racer or DeepRacer) and the `racer analyze` report."""
