"""What the papers say: their printed tables and values, the sentences quoted, and the verdict rules."""
