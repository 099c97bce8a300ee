"""The fund's registry pipeline: reading and ФЛК, settlement, МЭК outputs, recalculation, planning."""
