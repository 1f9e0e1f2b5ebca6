"""PDF forms: inspect uploads, field maps, the one fill function, letters, packets, our templates."""
