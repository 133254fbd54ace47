"""Descriptor formats: turn external documents into ``nubo.model`` descriptors.

Each parser reads one format (Open Baton JSON today, SOL001 TOSCA later),
tolerates fields it does not use, and reports every problem it finds at once,
each located by a JSON path, as one ``InvalidDescriptor``. Pure: no I/O.
"""
