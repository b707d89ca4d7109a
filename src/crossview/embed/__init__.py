"""Building embeddings and mapping one embedding space into another."""
