"""Prompt templates shipped as package data (installed as director.prompts)."""
