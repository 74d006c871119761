"""Sample workbooks in the official layouts, and the generator that writes them."""
