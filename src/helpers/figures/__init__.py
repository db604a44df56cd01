"""One module per figure or table of the papers (and this book's additions), named after its notebook."""
