"""How updates reach the handlers: polling or webhook, both through one dispatcher."""
