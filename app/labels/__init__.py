"""Thingsee device labels: parse label text, decode label photos, print label sheets."""
