"""Descriptor formats: turn external documents into ``nubo.model`` descriptors.

Each parser reads one format (Open Baton JSON, ETSI SOL001 TOSCA; CSAR packages),
tolerates fields it does not use, and reports every problem it finds at once,
each located by a JSON path, as one ``InvalidDescriptor``. Pure: no I/O.
"""
