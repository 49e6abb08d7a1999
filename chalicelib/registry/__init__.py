"""SMPT program registry (Art. 6-8): programs, their officers and implementation reports."""
