"""Outgoing e-mail: messages are queued in the outbox (:mod:`geo.store.mail`) and sent
by :mod:`webmap.mail.sender` (a worker thread in ``serve``, ``lagesbild mail send``)."""
